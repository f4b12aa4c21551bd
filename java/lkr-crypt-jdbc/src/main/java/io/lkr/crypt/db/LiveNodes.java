package io.lkr.crypt.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Nodes whose heartbeat in {@code NODE} is younger than {@link #LIVE_SECONDS} seconds, judged by
 * the database's own clock (docs/native-interfaces.md): neither node clocks nor time zones enter.
 */
public final class LiveNodes {
    /** A heartbeat younger than this many seconds means the node is live. */
    public static final int LIVE_SECONDS = 60;

    /** docs/native-interfaces.md's refusal, word for word. */
    public static final String MESSAGE =
            "There are other live nodes connected to this backend Looker database. "
                    + "If Looker was shutdown within the last minute, try again shortly, otherwise verify all nodes in "
                    + "the cluster are shut down.";

    private LiveNodes() {}

    /**
     * The ids of the live nodes (empty: none).
     *
     * @param c an open connection
     * @param d its dialect
     * @return the node ids
     * @throws SQLException when the database fails
     */
    public static List<String> find(Connection c, Dialect d) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT "
                                        + d.q("ID")
                                        + " FROM "
                                        + d.q(Schema.NODE)
                                        + " WHERE "
                                        + d.q("HEARTBEAT_AT")
                                        + " > "
                                        + d.nowMinusSeconds(LIVE_SECONDS)
                                        + " ORDER BY "
                                        + d.q("ID"))) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    /**
     * The live-node check of a task that writes values or the keystore (docs/native-interfaces.md:
     * after the CMK configuration, before anything else): ensures the schema, reads the live nodes
     * by the database's clock and commits. Returns the documented refusal ({@link #MESSAGE}) when a
     * node is live — the task then logs it and exits with status 1, nothing written — else null.
     *
     * @param c an open connection
     * @param d its dialect
     * @return the refusal, or null
     * @throws SQLException when the database fails
     */
    public static String refusal(Connection c, Dialect d) throws SQLException {
        Schema.ensure(c, d);
        List<String> live = find(c, d);
        if (!c.getAutoCommit()) {
            c.commit();
        }
        return live.isEmpty() ? null : MESSAGE;
    }
}
