package dfbmodels.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dfbmodels.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Interpolation#bilinear} against PyTorch's {@code F.interpolate} (antialias off): the
 * fixture {@code interpolate.safetensors} beside this class is written by {@code
 * src/test/python/make_interpolate_fixture.py} with Debian's torch 1.13 and holds 13 cases (up,
 * down, one axis of each, non-integer ratios, 1×1 in and out), both {@code align_corners}, float64
 * and float32 outputs and float64 input gradients.
 */
class InterpolationTest {

    // float32 against PyTorch's float64: a float32 source coordinate (at most 13 here) is off by
    // up to 13 * 2^-24, times a neighbour difference of at most 10 (inputs in [-5, 5]), plus
    // about three roundings of the value (<= 5): 13 * 2^-24 * 10 + 3 * 2^-24 * 5 = 8.6e-6.
    // PyTorch's own float32 results stay within it too (asserted).
    private static final double F32_TOLERANCE = 8.6e-6;
    private static final double F64_TOLERANCE = 1e-13;

    private static NDList fixture(NDManager m) throws IOException {
        try (InputStream is =
                InterpolationTest.class.getResourceAsStream("interpolate.safetensors")) {
            return NDList.decode(m, is);
        }
    }

    private static List<String> cases(NDList fixture) {
        List<String> names = new ArrayList<>();
        for (NDArray a : fixture) {
            if (a.getName().endsWith(".input")) {
                names.add(a.getName().substring(0, a.getName().length() - ".input".length()));
            }
        }
        return names;
    }

    @Test
    void equalsPyTorchUpAndDownForBothCornerModesAndTypes() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList f = fixture(m);
            List<String> cases = cases(f);
            assertEquals(13, cases.size(), cases.toString());
            for (String c : cases) {
                NDArray x = f.get(c + ".input");
                for (int ac = 0; ac <= 1; ac++) {
                    String key = c + ".ac" + ac;
                    NDArray want = f.get(key + ".f64");
                    Shape out = want.getShape();
                    NDArray got = Interpolation.bilinear(x, out.get(2), out.get(3), ac == 1);
                    assertEquals(DataType.FLOAT64, got.getDataType(), key);
                    Fixtures.assertClose(key + " float64", got, want, F64_TOLERANCE);
                    NDArray got32 =
                            Interpolation.bilinear(
                                    x.toType(DataType.FLOAT32, false),
                                    out.get(2),
                                    out.get(3),
                                    ac == 1);
                    assertEquals(DataType.FLOAT32, got32.getDataType(), key);
                    Fixtures.assertClose(key + " float32", got32, want, F32_TOLERANCE);
                    Fixtures.assertClose(
                            key + " PyTorch's float32", f.get(key + ".f32"), want, F32_TOLERANCE);
                }
            }
        }
    }

    @Test
    void gradientsEqualPyTorch() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList f = fixture(m);
            for (String c : cases(f)) {
                NDArray r = f.get(c + ".weight");
                for (int ac = 0; ac <= 1; ac++) {
                    String key = c + ".ac" + ac;
                    NDArray x = f.get(c + ".input").duplicate();
                    x.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray y =
                                Interpolation.bilinear(
                                        x, r.getShape().get(2), r.getShape().get(3), ac == 1);
                        gc.backward(y.mul(r).sum());
                    }
                    Fixtures.assertClose(
                            key + " gradient",
                            x.getGradient(),
                            f.get(key + ".grad"),
                            F64_TOLERANCE);
                }
            }
        }
    }

    @Test
    void downsamplingSkipsPixelsInsteadOfAveraging() {
        try (NDManager m = NDManager.newBaseManager()) {
            // the case: arange(64) as 8x8 -> 3x3; the input is linear in row and column,
            // so bilinear reproduces it at the source coordinates s_i = (i + 0.5) * 8/3 - 0.5:
            // 5/6, 7/2, 37/6, and out[i][j] = 8 s_i + s_j (antialiasing gave 9.947 at [0, 0])
            NDArray x = m.arange(64f).toType(DataType.FLOAT64, false).reshape(1, 1, 8, 8);
            double[] s = {5.0 / 6, 3.5, 37.0 / 6};
            double[] want = new double[9];
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    want[i * 3 + j] = 8 * s[i] + s[j];
                }
            }
            assertEquals(7.5, want[0]);
            assertArrayEquals(want, Interpolation.bilinear(x, 3, 3, false).toDoubleArray(), 1e-12);
            // align_corners=True: s_i = i * 7/2 -> 0, 3.5, 7
            double[] a = {0, 3.5, 7};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    want[i * 3 + j] = 8 * a[i] + a[j];
                }
            }
            assertArrayEquals(want, Interpolation.bilinear(x, 3, 3, true).toDoubleArray(), 1e-12);
        }
    }

    @Test
    void upsamplingByTwoMatchesHandValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new double[] {0, 1, 2, 3}).reshape(1, 1, 2, 2);
            // align_corners=False: source coordinate (i + 0.5) / 2 - 0.5, clamped at 0
            double[] row0 = {0, 0.25, 0.75, 1};
            double[] want = new double[16];
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    want[i * 4 + j] = row0[j] + 2 * row0[i];
                }
            }
            assertArrayEquals(want, Interpolation.bilinear(x, 4, 4, false).toDoubleArray(), 1e-12);
            // align_corners=True: source coordinate i * (2 - 1) / (3 - 1)
            assertArrayEquals(
                    new double[] {0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3},
                    Interpolation.bilinear(x, 3, 3, true).toDoubleArray(),
                    1e-12);
        }
    }

    @Test
    void float16KeepsItsTypeAndIsBlendedInFloat32() {
        // LibTorch 2.7.1 has no float16 kernel for DJL's (antialiased) resize on the CPU, so
        // float16 takes the matrices in float32 and is rounded once. (bfloat16 is handled the same
        // way but cannot be tested: DJL 0.36's PyTorch engine aborts the JVM on any bfloat16
        // array.) Integers up to 63 and the hand values are exact in float16's input.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(64f).toType(DataType.FLOAT64, false).reshape(1, 1, 8, 8);
            long[][] sizes = {{3, 3}, {16, 12}, {5, 11}};
            for (long[] size : sizes) {
                for (boolean ac : new boolean[] {false, true}) {
                    NDArray want = Interpolation.bilinear(x, size[0], size[1], ac);
                    NDArray got =
                            Interpolation.bilinear(
                                    x.toType(DataType.FLOAT16, false), size[0], size[1], ac);
                    assertEquals(DataType.FLOAT16, got.getDataType());
                    assertArrayEquals(
                            want.toType(DataType.FLOAT16, false)
                                    .toType(DataType.FLOAT64, false)
                                    .toDoubleArray(),
                            got.toType(DataType.FLOAT64, false).toDoubleArray(),
                            0.0,
                            size[0] + "x" + size[1] + " align_corners=" + ac);
                }
            }
        }
    }

    @Test
    void resultLivesInTheInputsManagerAndNothingElseIsLeft() {
        try (NDManager m = NDManager.newBaseManager();
                NDManager inputs = m.newSubManager()) {
            NDArray x = inputs.randomUniform(0f, 1f, new Shape(1, 2, 8, 6));
            BaseNDManager base = (BaseNDManager) inputs;
            int before = base.getManagedArrays().size();
            NDArray down = Interpolation.bilinear(x, 3, 5, false);
            NDArray mixed = Interpolation.bilinear(x, 11, 4, true);
            assertSame(inputs, down.getManager());
            assertSame(inputs, mixed.getManager());
            assertSame(inputs, x.getManager());
            assertEquals(before + 2, base.getManagedArrays().size());
            assertSame(x, Interpolation.bilinear(x, 8, 6, false));
        }
    }
}
