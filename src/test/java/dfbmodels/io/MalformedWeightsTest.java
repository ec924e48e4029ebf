package dfbmodels.io;

import static dfbmodels.io.TestFiles.f32;
import static dfbmodels.io.TestFiles.npy;
import static dfbmodels.io.TestFiles.npyWithHeader;
import static dfbmodels.io.TestFiles.npz;
import static dfbmodels.io.TestFiles.safetensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every malformed header or offset gives a {@link MalformedModelException} naming the file, the key
 * and what is wrong, and loads nothing. The block is a DJL {@code Linear} of 2 units on 3 inputs:
 * {@code weight} (2, 3) and {@code bias} (2), 32 bytes of float32 when well-formed.
 */
class MalformedWeightsTest {

    private static final String WEIGHT = "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],";
    private static final String BIAS = "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],";

    @TempDir Path tmp;
    private NDManager manager;
    private Linear linear;
    private float[] weightBefore;
    private int files;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        linear = Linear.builder().setUnits(2).build();
        linear.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
        weightBefore = weight();
    }

    @AfterEach
    void tearDown() {
        assertArrayEquals(weightBefore, weight(), "nothing was loaded");
        manager.close();
    }

    private float[] weight() {
        return TorchNames.of(linear).get("weight").getArray().toFloatArray();
    }

    /** Loads a file of these bytes and returns the error message with the file name removed. */
    private String error(String extension, byte[] bytes) {
        Path file = TestFiles.write(tmp.resolve("w" + files++ + extension), bytes);
        MalformedModelException e =
                assertThrows(MalformedModelException.class, () -> TorchWeights.load(linear, file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage().substring(file.toString().length() + 2);
    }

    private String safetensorsError(String header, int dataBytes) {
        return error(".safetensors", safetensors(header, new byte[dataBytes]));
    }

    private static String header(String weightOffsets, String biasOffsets) {
        return "{"
                + WEIGHT
                + "\"data_offsets\":"
                + weightOffsets
                + "},"
                + BIAS
                + "\"data_offsets\":"
                + biasOffsets
                + "}}";
    }

    @Test
    void offsetsThatDoNotTileTheDataAreRejected() {
        // the case: begin > end used to give IndexOutOfBoundsException: null
        assertEquals(
                "tensor 'weight': data_offsets [24, 0]: begin 24 is after end 0",
                safetensorsError(header("[24,0]", "[24,32]"), 32));
        assertEquals(
                "tensor 'weight': data_offsets [0, 20] span 20 bytes, but shape [2, 3] of F32"
                        + " needs 24",
                safetensorsError(header("[0,20]", "[20,28]"), 28));
        assertEquals(
                "tensor 'bias': data_offsets [16, 24] overlap those of tensor 'weight' [0, 24]",
                safetensorsError(header("[0,24]", "[16,24]"), 24));
        assertEquals(
                "tensor 'bias': data_offsets [28, 36] leave 4 bytes before them that belong to no"
                        + " tensor",
                safetensorsError(header("[0,24]", "[28,36]"), 36));
        assertEquals(
                "tensor 'weight': data_offsets [8, 32] leave 8 bytes before them that belong to no"
                        + " tensor",
                safetensorsError(header("[8,32]", "[32,40]"), 40));
        assertEquals(
                "tensor 'bias': data_offsets [24, 32] run past the end of the file, which holds 30"
                        + " data bytes: truncated?",
                safetensorsError(header("[0,24]", "[24,32]"), 30));
        assertEquals(
                "4 bytes after the last tensor's data belong to no tensor",
                safetensorsError(header("[0,24]", "[24,32]"), 36));
        assertEquals(
                "tensor 'weight': data_offsets must be [begin, end], found 3 numbers",
                safetensorsError(header("[0,24,32]", "[24,32]"), 32));
        assertEquals(
                "tensor 'weight': data_offsets holds -24, a negative number",
                safetensorsError(header("[-24,0]", "[24,32]"), 32));
    }

    @Test
    void malformedTensorEntriesAreRejected() {
        String bias = BIAS + "\"data_offsets\":[24,32]}";
        assertEquals(
                "tensor 'weight': unknown dtype 'F12' (safetensors has F64, F32, F16, BF16,"
                        + " F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ, F8_E8M0, F6_E2M3, F6_E3M2,"
                        + " F4, C64, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)",
                safetensorsError(
                        "{\"weight\":{\"dtype\":\"F12\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                                + bias
                                + "}",
                        32));
        assertEquals(
                "tensor 'weight': has no dtype",
                safetensorsError(
                        "{\"weight\":{\"shape\":[2,3],\"data_offsets\":[0,24]}," + bias + "}", 32));
        assertEquals(
                "tensor 'weight': has no data_offsets",
                safetensorsError("{" + WEIGHT + "\"offsets\":[0,24]}," + bias + "}", 32));
        assertEquals(
                "tensor 'weight': shape holds -3, a negative number",
                safetensorsError(
                        "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,24]},"
                                + bias
                                + "}",
                        32));
        assertEquals(
                "tensor 'weight': shape holds 2.5, not an integer",
                safetensorsError(
                        "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2.5,3],\"data_offsets\":[0,24]},"
                                + bias
                                + "}",
                        32));
        assertEquals(
                "tensor 'weight': shape must be an array of integers, found STRING",
                safetensorsError(
                        "{\"weight\":{\"dtype\":\"F32\",\"shape\":\"2x3\",\"data_offsets\":[0,24]},"
                                + bias
                                + "}",
                        32));
        assertEquals(
                "tensor 'weight': shape [1099511627776, 1099511627776] has too many elements",
                safetensorsError(
                        "{\"weight\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
                                + "\"data_offsets\":[0,24]},"
                                + bias
                                + "}",
                        32));
        assertEquals(
                "tensor 'weight': shape [3] of F4 is not a whole number of bytes",
                safetensorsError(
                        "{\"weight\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2));
        assertEquals(
                "tensor 'weight': dtype must be a string, found NUMBER",
                safetensorsError(
                        "{\"weight\":{\"dtype\":32,\"shape\":[2,3],\"data_offsets\":[0,24]},"
                                + bias
                                + "}",
                        32));
        assertEquals(
                "tensor 'weight': expected an object with dtype, shape and data_offsets",
                safetensorsError("{\"weight\":[0,24]," + bias + "}", 32));
        assertEquals(
                "tensor 'weight': appears twice in the header",
                safetensorsError(
                        header("[0,24]", "[24,32]").replace("\"bias\"", "\"weight\""), 32));
        assertEquals(
                "__metadata__ must map strings to strings; 'version' is NUMBER",
                safetensorsError(
                        "{\"__metadata__\":{\"format\":\"pt\",\"version\":2},"
                                + header("[0,24]", "[24,32]").substring(1),
                        32));
    }

    @Test
    void malformedHeadersAreRejected() {
        assertEquals(
                "3 bytes long, too short for safetensors (an 8-byte header length, then a JSON"
                        + " header)",
                error(".safetensors", new byte[] {1, 2, 3}));
        ByteBuffer longHeader = ByteBuffer.allocate(58).order(ByteOrder.LITTLE_ENDIAN);
        longHeader.putLong(1000).put("{}".getBytes(StandardCharsets.UTF_8));
        assertEquals(
                "header length 1000 runs past the end of the file (58 bytes): truncated, or not a"
                        + " safetensors file",
                error(".safetensors", longHeader.array()));
        ByteBuffer hugeHeader = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        hugeHeader.putLong(1L << 62).putLong(0);
        assertEquals(
                "header length 4611686018427387904 exceeds safetensors' limit of 100,000,000 bytes"
                        + " (not a safetensors file?)",
                error(".safetensors", hugeHeader.array()));
        byte[] notUtf8 = safetensors("{\"w\":1}", new byte[0]);
        notUtf8[10] = (byte) 0xFF;
        assertEquals(
                "header is not valid UTF-8 (not a safetensors file?)",
                error(".safetensors", notUtf8));
        assertEquals(
                "header is not a JSON object (not a safetensors file?)",
                safetensorsError("[1, 2]", 0));
        String truncated = safetensorsError("{\"weight\":{\"dtype\":\"F32\"", 0);
        assertTrue(
                truncated.startsWith("tensor 'weight': header is not valid safetensors JSON: "),
                truncated);
        String twoValues = safetensorsError(header("[0,24]", "[24,32]") + "{}", 32);
        assertTrue(twoValues.startsWith("header is not valid safetensors JSON: "), twoValues);
    }

    private static byte[] npzOf(String key, byte[] npy) {
        Map<String, byte[]> npys = new LinkedHashMap<>();
        npys.put(key, npy);
        npys.put("bias", npy("<f4", false, new long[] {2}, f32(0, 0)));
        return npz(npys, false);
    }

    @Test
    void malformedNpzEntriesAreRejected() {
        long[] shape = {2, 3};
        assertEquals(
                "tensor 'weight': holds 20 data bytes, but shape [2, 3] of '<f4' needs 24:"
                        + " truncated?",
                error(".npz", npzOf("weight", npy("<f4", false, shape, new byte[20]))));
        assertEquals(
                "tensor 'weight': holds 28 data bytes, but shape [2, 3] of '<f4' needs 24",
                error(".npz", npzOf("weight", npy("<f4", false, shape, new byte[28]))));
        String noShape = "{'descr': '<f4', 'fortran_order': False, }";
        assertEquals(
                "tensor 'weight': .npy header "
                        + noShape
                        + " must be a dict of exactly 'descr', 'fortran_order' and 'shape'",
                error(".npz", npzOf("weight", npyWithHeader(noShape, new byte[24]))));
        String notLiteral = "{'descr': <f4, 'fortran_order': False, 'shape': (2, 3), }";
        assertEquals(
                "tensor 'weight': .npy header "
                        + notLiteral
                        + " is not a Python literal: unexpected '<' at character 10",
                error(".npz", npzOf("weight", npyWithHeader(notLiteral, new byte[24]))));
        String negative = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }";
        assertEquals(
                "tensor 'weight': .npy header's shape must be a tuple of sizes: " + negative,
                error(".npz", npzOf("weight", npyWithHeader(negative, new byte[24]))));
        String order = "{'descr': '<f4', 'fortran_order': 'no', 'shape': (2, 3), }";
        assertEquals(
                "tensor 'weight': .npy header's fortran_order must be True or False: " + order,
                error(".npz", npzOf("weight", npyWithHeader(order, new byte[24]))));
        byte[] version4 = npy("<f4", false, shape, new byte[24]);
        version4[6] = 4;
        assertEquals(
                "tensor 'weight': unknown .npy format version 4.0 (1.0 to 3.0)",
                error(".npz", npzOf("weight", version4)));
        byte[] noMagic = npy("<f4", false, shape, new byte[24]);
        noMagic[1] = 'X';
        assertEquals(
                "tensor 'weight': is not a .npy array (no \\x93NUMPY magic)",
                error(".npz", npzOf("weight", noMagic)));
        assertEquals(
                "entry 'notes.txt' is not a .npy array",
                error(".npz", npzOf("raw:notes.txt", new byte[3])));
    }

    @Test
    void malformedZipsAreRejected() {
        // two entries of the same name, which zip writers refuse to make: rename one after
        byte[] twice = npzOf("biax", npy("<f4", false, new long[] {2}, new byte[8]));
        byte[] renamed =
                new String(twice, StandardCharsets.ISO_8859_1)
                        .replace("biax", "bias")
                        .getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("tensor 'bias': appears twice in the archive", error(".npz", renamed));
        byte[] cut = npzOf("weight", npy("<f4", false, new long[] {2, 3}, new byte[24]));
        String message = error(".npz", Arrays.copyOf(cut, cut.length - 30));
        assertEquals("not a readable .npz (zip) file: zip END header not found", message);
    }
}
