package io.lkr.crypt.cli;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON of {@code --format json} (docs/native-interfaces.md, "Machine-readable output"): one
 * document written from maps (in their order), lists, strings, integers, finite doubles (three
 * decimals), booleans and null. No JSON library is on the CLI's class path, and these documents are
 * small and made here, so a writer of RFC 8259 text is all it takes.
 */
final class Json {
    private Json() {}

    /** The values of {@code --format}: the text for people, or one JSON document. */
    enum Format {
        text,
        json
    }

    /** {@code value} as one line of JSON text. */
    static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
            b.append(v);
        } else if (v instanceof Double && Double.isFinite((Double) v)) {
            b.append(String.format(Locale.ROOT, "%.3f", (Double) v));
        } else if (v instanceof Map) {
            b.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = ((Map<?, ?>) v).entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                string(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue());
                b.append(it.hasNext() ? "," : "");
            }
            b.append('}');
        } else if (v instanceof List) {
            b.append('[');
            Iterator<?> it = ((List<?>) v).iterator();
            while (it.hasNext()) {
                write(b, it.next());
                b.append(it.hasNext() ? "," : "");
            }
            b.append(']');
        } else if (v instanceof String) {
            string(b, (String) v);
        } else {
            throw new IllegalArgumentException("Not a JSON value: " + v.getClass());
        }
    }

    /** A JSON string: quotes, backslashes and control characters escaped. */
    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }
}
