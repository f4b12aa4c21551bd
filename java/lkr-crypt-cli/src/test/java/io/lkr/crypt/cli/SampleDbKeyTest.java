package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The legacy key of create_sample_db, decoded from bytes (a key file's content) without a String.
 */
class SampleDbKeyTest {
    @Test
    void decodesTheKeyFileBytes() throws Exception {
        byte[] key = new byte[16];
        for (int i = 0; i < 16; i++) {
            key[i] = (byte) (i * 17 + 3);
        }
        byte[] file =
                (" \n" + Base64.getEncoder().encodeToString(key) + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
        byte[] copy = file.clone();
        assertArrayEquals(key, SampleDb.decodeLegacyKey(file));
        assertArrayEquals(copy, file, "the caller's bytes are the caller's to wipe");

        IOException wrongSize =
                assertThrows(
                        IOException.class,
                        () -> SampleDb.decodeLegacyKey(Base64.getEncoder().encode(new byte[32])));
        assertEquals("The legacy key must be 16 bytes, but is 32", wrongSize.getMessage());
        IOException notBase64 =
                assertThrows(
                        IOException.class,
                        () ->
                                SampleDb.decodeLegacyKey(
                                        "not base64!".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("The legacy key is not valid base64", notBase64.getMessage());
    }
}
