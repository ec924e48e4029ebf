package dfbmodels.io;

import static dfbmodels.io.TestFiles.f32;
import static dfbmodels.io.TestFiles.f64;
import static dfbmodels.io.TestFiles.npy;
import static dfbmodels.io.TestFiles.npz;
import static dfbmodels.io.TestFiles.raw;
import static dfbmodels.io.TestFiles.safetensors;
import static dfbmodels.io.TestFiles.u16;
import static dfbmodels.io.TestFiles.u8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every type safetensors and {@code .npz} can hold either loads exactly, converted to the
 * parameter's type, or fails naming the key and the type. The block is a DJL {@code Linear} of 8
 * units on 1 input: {@code weight} (8, 1) and {@code bias} (8); the tensor under test is the bias.
 */
class WeightTypesTest {

    private static final long[] EIGHT = {8};
    private static final float NAN = Float.NaN;
    private static final float INF = Float.POSITIVE_INFINITY;

    @TempDir Path tmp;

    private static Linear linear(NDManager m, DataType type) {
        Linear linear = Linear.builder().setUnits(8).build();
        linear.initialize(m, type, new Shape(1, 1));
        return linear;
    }

    private static NDArray bias(Linear linear) {
        return TorchNames.of(linear).get("bias").getArray();
    }

    private Path safetensorsBias(String dtype, byte[] bias) {
        Map<String, TestFiles.Raw> t = new LinkedHashMap<>();
        t.put("weight", raw("F32", new long[] {8, 1}, new byte[32]));
        t.put("bias", raw(dtype, EIGHT, bias));
        return TestFiles.write(tmp.resolve(dtype + ".safetensors"), safetensors(t));
    }

    private Path npzBias(String name, String descr, boolean fortran, long[] shape, byte[] bias) {
        Map<String, byte[]> npys = new LinkedHashMap<>();
        npys.put("weight", npy("<f4", false, new long[] {8, 1}, new byte[32]));
        npys.put("bias", npy(descr, fortran, shape, bias));
        return TestFiles.write(tmp.resolve(name + ".npz"), npz(npys, false));
    }

    private static float[] loadBias(Path file) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = linear(m, DataType.FLOAT32);
            TorchWeights.load(linear, file);
            return bias(linear).toFloatArray();
        }
    }

    @Test
    void everySafetensorsFloatTypeLoadsExactly() throws Exception {
        float[] f32 = {1, -2, 0.1f, Float.MIN_VALUE, Float.MAX_VALUE, -INF, NAN, -0f};
        assertArrayEquals(f32, loadBias(safetensorsBias("F32", f32(f32))), "F32");
        double[] f64 = {1.5, -2.25, 0.1, 1e-3, 1e300, -1e-50, Math.PI, Double.NaN};
        float[] f64Rounded = new float[8];
        for (int i = 0; i < 8; i++) {
            f64Rounded[i] = (float) f64[i];
        }
        assertArrayEquals(
                f64Rounded,
                loadBias(safetensorsBias("F64", f64(ByteOrder.LITTLE_ENDIAN, f64))),
                "F64, rounded to nearest");
        assertArrayEquals(
                new float[] {1, -2, 0.333251953125f, 0x1p-24f, 65504, -INF, NAN, -0f},
                loadBias(
                        safetensorsBias(
                                "F16",
                                u16(
                                        0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0xFC00, 0x7E00,
                                        0x8000))),
                "F16");
        // the case: 0x3F80, 0xC000 are 1.0 and -2.0; it used to abort the JVM
        assertArrayEquals(
                new float[] {1, -2, 0.333984375f, 0x1p-133f, 0x1.FEp127f, -INF, NAN, -0f},
                loadBias(
                        safetensorsBias(
                                "BF16",
                                u16(
                                        0x3F80, 0xC000, 0x3EAB, 0x0001, 0x7F7F, 0xFF80, 0x7FC0,
                                        0x8000))),
                "BF16");
        assertArrayEquals(
                new float[] {1, -2, 448, 0x1p-9f, 0x1p-6f, NAN, NAN, -0f},
                loadBias(
                        safetensorsBias(
                                "F8_E4M3", u8(0x38, 0xC0, 0x7E, 0x01, 0x08, 0x7F, 0xFF, 0x80))),
                "F8_E4M3 (float8_e4m3fn: max 448, no infinities)");
        assertArrayEquals(
                new float[] {1, -2, 57344, 0x1p-16f, 0x1p-14f, INF, NAN, -0f},
                loadBias(
                        safetensorsBias(
                                "F8_E5M2", u8(0x3C, 0xC0, 0x7B, 0x01, 0x04, 0x7C, 0xFD, 0x80))),
                "F8_E5M2");
        assertArrayEquals(
                new float[] {1, -2, 240, 0x1p-10f, 0x1p-7f, NAN, 0, -240},
                loadBias(
                        safetensorsBias(
                                "F8_E4M3FNUZ", u8(0x40, 0xC8, 0x7F, 0x01, 0x08, 0x80, 0x00, 0xFF))),
                "F8_E4M3FNUZ (bias 8, max 240, NaN 0x80)");
        assertArrayEquals(
                new float[] {1, -2, 57344, 0x1p-17f, 0x1p-15f, NAN, 0, -57344},
                loadBias(
                        safetensorsBias(
                                "F8_E5M2FNUZ", u8(0x40, 0xC4, 0x7F, 0x01, 0x04, 0x80, 0x00, 0xFF))),
                "F8_E5M2FNUZ (bias 16, NaN 0x80)");
        assertArrayEquals(
                new float[] {1, 2, 0x1p-127f, 0x1p127f, 0.5f, NAN, 64, 0x1p-126f},
                loadBias(
                        safetensorsBias(
                                "F8_E8M0", u8(0x7F, 0x80, 0x00, 0xFE, 0x7E, 0xFF, 0x85, 0x01))),
                "F8_E8M0 (powers of two)");
    }

    @Test
    void valuesAreConvertedToTheParametersType() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            // float64 parameters keep float64 values exactly
            double[] f64 = {1.5, -2.25, 0.1, 1e-3, 1e300, -1e-50, Math.PI, 1.0 / 3};
            Linear wide = linear(m, DataType.FLOAT64);
            Path file = safetensorsBias("F64", f64(ByteOrder.LITTLE_ENDIAN, f64));
            TorchWeights.load(wide, file);
            assertArrayEquals(f64, bias(wide).toDoubleArray());
            // BF16 into float16: exact for these, rounded to nearest for 1/3
            Linear half = linear(m, DataType.FLOAT16);
            TorchWeights.load(
                    half,
                    safetensorsBias(
                            "BF16",
                            u16(0x3F80, 0xC000, 0x3EAB, 0x4000, 0x3F00, 0xBF40, 0x4120, 0x0000)));
            NDArray b = bias(half);
            assertEquals(DataType.FLOAT16, b.getDataType());
            assertArrayEquals(
                    new float[] {1, -2, 0.333984375f, 2, 0.5f, -0.75f, 10, 0},
                    b.toType(DataType.FLOAT32, false).toFloatArray());
        }
    }

    @Test
    void integerBooleanPackedAndComplexTypesFailNamingKeyAndType() throws Exception {
        Map<String, Integer> bytesPerElement = new LinkedHashMap<>();
        for (String t : List.of("I64", "U64")) {
            bytesPerElement.put(t, 8);
        }
        for (String t : List.of("I32", "U32")) {
            bytesPerElement.put(t, 4);
        }
        for (String t : List.of("I16", "U16")) {
            bytesPerElement.put(t, 2);
        }
        for (String t : List.of("I8", "U8", "BOOL")) {
            bytesPerElement.put(t, 1);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = linear(m, DataType.FLOAT32);
            float[] before = bias(linear).toFloatArray();
            for (Map.Entry<String, Integer> t : bytesPerElement.entrySet()) {
                String kind = t.getKey().equals("BOOL") ? "boolean" : "integer";
                Path file = safetensorsBias(t.getKey(), new byte[8 * t.getValue()]);
                assertMessage(
                        "weights in "
                                + file
                                + " do not fit the model:\n  unsupported types (1):\n    bias:"
                                + " type "
                                + t.getKey()
                                + " ("
                                + kind
                                + ") does not load into a float32 parameter: integer tensors are"
                                + " not converted (a quantised checkpoint would load as garbage)",
                        () -> TorchWeights.load(linear, file));
            }
            Path f4 = safetensorsBias("F4", new byte[4]);
            assertMessage(
                    "weights in "
                            + f4
                            + " do not fit the model:\n  unsupported types (1):\n    bias: type F4"
                            + " (packed sub-byte float) is not supported",
                    () -> TorchWeights.load(linear, f4));
            for (String f6 : List.of("F6_E2M3", "F6_E3M2")) {
                Path file = safetensorsBias(f6, new byte[6]);
                assertMessage(
                        "weights in "
                                + file
                                + " do not fit the model:\n  unsupported types (1):\n    bias: type "
                                + f6
                                + " (packed sub-byte float) is not supported",
                        () -> TorchWeights.load(linear, file));
            }
            Path c64 = safetensorsBias("C64", new byte[64]);
            assertMessage(
                    "weights in "
                            + c64
                            + " do not fit the model:\n  unsupported types (1):\n    bias: type C64"
                            + " (complex) does not load into a float32 parameter",
                    () -> TorchWeights.load(linear, c64));
            assertArrayEquals(before, bias(linear).toFloatArray(), "nothing was loaded");
        }
    }

    @Test
    void everyNumpyFloatTypeLoadsInEitherByteOrder() throws Exception {
        float[] values = {1, 2, 3, 4, 5, 6, 7, 8};
        for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
            String o = order == ByteOrder.BIG_ENDIAN ? ">" : "<";
            // the case: '>f4' holding 1..6 used to load as 4.6e-41 ...
            assertArrayEquals(
                    values,
                    loadBias(npzBias("f4" + o, o + "f4", false, EIGHT, f32(order, values))),
                    o + "f4");
            double[] wide = {1, 2, 3, 4, 5, 6, 7, 8};
            assertArrayEquals(
                    values,
                    loadBias(npzBias("f8" + o, o + "f8", false, EIGHT, f64(order, wide))),
                    o + "f8");
            assertArrayEquals(
                    new float[] {1, -2, 0.333251953125f, 0x1p-24f, 65504, -INF, NAN, -0f},
                    loadBias(
                            npzBias(
                                    "f2" + o,
                                    o + "f2",
                                    false,
                                    EIGHT,
                                    u16(
                                            order, 0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0xFC00,
                                            0x7E00, 0x8000))),
                    o + "f2");
        }
    }

    @Test
    void numpyTypesWithoutAFloatCounterpartFailNamingKeyAndType() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = linear(m, DataType.FLOAT32);
            Map<String, byte[]> cases = new LinkedHashMap<>();
            cases.put("|b1", new byte[8]);
            cases.put("|i1", new byte[8]);
            cases.put("|u1", new byte[8]);
            cases.put("<i8", new byte[64]);
            cases.put(">i4", new byte[32]);
            cases.put("<u2", new byte[16]);
            String[] kinds = {"boolean", "integer", "integer", "integer", "integer", "integer"};
            int i = 0;
            for (Map.Entry<String, byte[]> c : cases.entrySet()) {
                Path file = npzBias("t" + i, c.getKey(), false, EIGHT, c.getValue());
                assertMessage(
                        "weights in "
                                + file
                                + " do not fit the model:\n  unsupported types (1):\n    bias: type '"
                                + c.getKey()
                                + "' ("
                                + kinds[i++]
                                + ") does not load into a float32 parameter: integer tensors are"
                                + " not converted (a quantised checkpoint would load as garbage)",
                        () -> TorchWeights.load(linear, file));
            }
            Path complex = npzBias("c8", "<c8", false, EIGHT, new byte[64]);
            assertMessage(
                    "weights in "
                            + complex
                            + " do not fit the model:\n  unsupported types (1):\n    bias: type"
                            + " '<c8' (complex) does not load into a float32 parameter",
                    () -> TorchWeights.load(linear, complex));
            Path text = npzBias("u3", "<U3", false, EIGHT, new byte[96]);
            assertMessage(
                    "weights in "
                            + text
                            + " do not fit the model:\n  unsupported types (1):\n    bias: type"
                            + " '<U3' has no numeric counterpart and does not load into a float32"
                            + " parameter",
                    () -> TorchWeights.load(linear, text));
            // ml_dtypes' bfloat16 arrays are saved by numpy as a record of raw bytes
            Path record = npzBias("v2", "[('', '|V2')]", false, EIGHT, new byte[16]);
            assertMessage(
                    "weights in "
                            + record
                            + " do not fit the model:\n  unsupported types (1):\n    bias: type"
                            + " [('', '|V2')] has no numeric counterpart and does not load into a"
                            + " float32 parameter",
                    () -> TorchWeights.load(linear, record));
        }
    }

    @Test
    void fortranOrderArraysLoadInTheirLogicalOrder() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            // weight (2, 3) = [[1, 2, 3], [4, 5, 6]] stored column by column
            Linear linear = Linear.builder().setUnits(2).build();
            linear.initialize(m, DataType.FLOAT32, new Shape(1, 3));
            Map<String, byte[]> npys = new LinkedHashMap<>();
            npys.put("weight", npy("<f4", true, new long[] {2, 3}, f32(1, 4, 2, 5, 3, 6)));
            npys.put("bias", npy("<f4", true, new long[] {2}, f32(7, 8)));
            Path file = TestFiles.write(tmp.resolve("fortran.npz"), npz(npys, true));
            TorchWeights.load(linear, file);
            assertArrayEquals(
                    new float[] {1, 2, 3, 4, 5, 6},
                    TorchNames.of(linear).get("weight").getArray().toFloatArray());
            assertArrayEquals(
                    new float[] {7, 8},
                    TorchNames.of(linear).get("bias").getArray().toFloatArray());
        }
    }

    @Test
    void fortranOrderIsTransposedOnEveryAxis() throws Exception {
        // element (i, j, k) = 100 i + 10 j + k of shape (2, 3, 4), written with i fastest
        long[] shape = {2, 3, 4};
        ByteBuffer fortran = ByteBuffer.allocate(8 * 24).order(ByteOrder.BIG_ENDIAN);
        for (int k = 0; k < 4; k++) {
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < 2; i++) {
                    fortran.putDouble(100 * i + 10 * j + k);
                }
            }
        }
        double[] c = new double[24];
        for (int n = 0; n < 24; n++) {
            c[n] = 100 * (n / 12) + 10 * (n / 4 % 3) + n % 4;
        }
        TensorEntry entry =
                new TensorEntry(
                        "x", "'>f8'", TensorType.F64, shape, ByteOrder.BIG_ENDIAN, true, 0, 192);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray decoded = entry.decode(m, fortran.flip());
            assertEquals(new Shape(2, 3, 4), decoded.getShape());
            assertArrayEquals(c, decoded.toDoubleArray());
        }
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable load) {
        MalformedModelException e = assertThrows(MalformedModelException.class, load);
        assertEquals(expected, e.getMessage());
    }
}
