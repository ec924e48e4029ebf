package dfbmodels.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class GroupNormTest {

    private static final double EPS = 1e-5;

    /** Input (1, 4, 1, 2) holding 1..8: channel c has values {2c+1, 2c+2}. */
    private static NDArray input(NDManager m, DataType type) {
        return m.arange(1f, 9f).reshape(1, 4, 1, 2).toType(type, false);
    }

    private static double[] run(NDManager m, int groups, NDArray x, float[] w, float[] b) {
        GroupNorm gn = GroupNorm.builder().setNumGroups(groups).build();
        gn.initialize(m, x.getDataType(), x.getShape());
        if (w != null) {
            DataType t = x.getDataType();
            gn.getParameters()
                    .get("weight")
                    .getArray()
                    .set(m.create(w).toType(t, false).toByteBuffer());
            gn.getParameters()
                    .get("bias")
                    .getArray()
                    .set(m.create(b).toType(t, false).toByteBuffer());
        }
        NDArray y = gn.forward(new ParameterStore(m, false), new NDList(x), false).head();
        return y.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    @Test
    void twoGroupsMatchHandComputedValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            // group {1,2,3,4}: mean 2.5, var 1.25; group {5,6,7,8}: mean 6.5, var 1.25
            double s = Math.sqrt(1.25 + EPS);
            double[] want = {
                -1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, -1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s
            };
            assertArrayEquals(want, run(m, 2, input(m, DataType.FLOAT64), null, null), 1e-12);
            assertArrayEquals(want, run(m, 2, input(m, DataType.FLOAT32), null, null), 1e-6);
        }
    }

    @Test
    void oneGroupPerChannelAndOneGroupOverall() {
        try (NDManager m = NDManager.newBaseManager()) {
            double s = Math.sqrt(0.25 + EPS);
            double[] perChannel = new double[8];
            for (int i = 0; i < 8; i++) {
                perChannel[i] = (i % 2 == 0 ? -0.5 : 0.5) / s;
            }
            assertArrayEquals(perChannel, run(m, 4, input(m, DataType.FLOAT64), null, null), 1e-12);
            // all of 1..8: mean 4.5, var 5.25
            double[] all = new double[8];
            for (int i = 0; i < 8; i++) {
                all[i] = (i + 1 - 4.5) / Math.sqrt(5.25 + EPS);
            }
            assertArrayEquals(all, run(m, 1, input(m, DataType.FLOAT64), null, null), 1e-12);
        }
    }

    @Test
    void affineParametersScaleAndShiftPerChannel() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] w = {1f, 2f, -1f, 0.5f};
            float[] b = {0f, 1f, 0f, -3f};
            double[] got = run(m, 4, input(m, DataType.FLOAT64), w, b);
            double s = Math.sqrt(0.25 + EPS);
            for (int c = 0; c < 4; c++) {
                assertArrayEquals(
                        new double[] {-0.5 / s * w[c] + b[c], 0.5 / s * w[c] + b[c]},
                        new double[] {got[2 * c], got[2 * c + 1]},
                        1e-12);
            }
        }
    }

    @Test
    void frozenParametersDoNotRequireGradient() {
        GroupNorm gn = GroupNorm.builder().setNumGroups(2).optTrainable(false).build();
        gn.getParameters().values().forEach(p -> assertTrue(!p.requiresGradient()));
    }

    @Test
    void indivisibleChannelsAreRejectedWithBothNumbers() {
        try (NDManager m = NDManager.newBaseManager()) {
            GroupNorm gn = GroupNorm.builder().setNumGroups(4).build();
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> gn.initialize(m, DataType.FLOAT32, new Shape(1, 6, 2, 2)));
            String message =
                    "GroupNorm over its input: channels must be a positive multiple of groups,"
                            + " got channels=6 and groups=4";
            assertEquals(message, e.getMessage());
            // the static form rejects the same input with the same message
            NDArray x = m.zeros(new Shape(1, 6, 2, 2));
            NDArray ones = m.ones(new Shape(6));
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> GroupNorm.groupNorm(x, 4, ones, ones, EPS));
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    void staticFormChecksItsArguments() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.zeros(new Shape(1, 6, 2, 2));
            NDArray six = m.ones(new Shape(6));
            NDArray four = m.ones(new Shape(4));
            assertEquals(
                    "GroupNorm weight must have shape (C) = (6) for an input of shape"
                            + " (1, 6, 2, 2), got (4)",
                    staticError(x, 3, four, six, EPS));
            assertEquals(
                    "GroupNorm bias must have shape (C) = (6) for an input of shape"
                            + " (1, 6, 2, 2), got (1, 6)",
                    staticError(x, 3, six, six.reshape(1, 6), EPS));
            assertEquals(
                    "GroupNorm input must have shape (B, C, ...), got (6)",
                    staticError(six, 3, six, six, EPS));
            assertEquals(
                    "GroupNorm over its input: channels must be a positive multiple of groups,"
                            + " got channels=6 and groups=0",
                    staticError(x, 0, six, six, EPS));
            assertEquals("GroupNorm eps must be positive, got 0.0", staticError(x, 3, six, six, 0));
            // null weight and bias: no scale, no shift, like F.group_norm's None
            double s = Math.sqrt(0.25 + EPS);
            NDArray y = GroupNorm.groupNorm(input(m, DataType.FLOAT64), 4, null, null, EPS);
            for (int i = 0; i < 8; i++) {
                assertEquals((i % 2 == 0 ? -0.5 : 0.5) / s, y.toDoubleArray()[i], 1e-12);
            }
        }
    }

    private static String staticError(NDArray x, int groups, NDArray w, NDArray b, double eps) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> GroupNorm.groupNorm(x, groups, w, b, eps))
                .getMessage();
    }

    /**
     * The input of the issue: 300 + U(0, 1), shape (1, 8, 16, 16), 2 groups. In float16 the input
     * is 300, 300.25, ..., 301 (ulp 0.25) and float16 statistics were off by 0.02 in the output;
     * with float32 statistics the output is the float32 computation on the same (exactly widened)
     * input, rounded once to float16.
     */
    @Test
    void float16IsNormalisedInFloat32AndRoundedOnce() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(12);
            Shape shape = new Shape(1, 8, 16, 16);
            NDArray x16 = m.randomUniform(300f, 301f, shape).toType(DataType.FLOAT16, false);
            NDArray x32 = x16.toType(DataType.FLOAT32, false);
            float[] w = {1f, 2f, -1f, 0.5f, 1.5f, -0.25f, 1f, 0.75f};
            float[] b = {0f, 1f, 0f, -1f, 0.5f, 0f, -0.5f, 0.25f};
            NDArray w32 = m.create(w);
            NDArray b32 = m.create(b);
            NDArray want64 =
                    GroupNorm.groupNorm(
                            x16.toType(DataType.FLOAT64, false),
                            2,
                            w32.toType(DataType.FLOAT64, false),
                            b32.toType(DataType.FLOAT64, false),
                            EPS);
            NDArray want32 = GroupNorm.groupNorm(x32, 2, w32, b32, EPS);
            // plain (the case): |y| < 2, so one rounding costs at most 2^-11 = 4.9e-4
            NDArray plain = GroupNorm.groupNorm(x16, 2, null, null, EPS);
            assertEquals(DataType.FLOAT16, plain.getDataType());
            assertWithinHalfUlp(
                    plain,
                    GroupNorm.groupNorm(x16.toType(DataType.FLOAT64, false), 2, null, null, EPS),
                    GroupNorm.groupNorm(x32, 2, null, null, EPS));
            for (boolean halfWeights : new boolean[] {true, false}) {
                NDArray got =
                        GroupNorm.groupNorm(
                                x16,
                                2,
                                halfWeights ? w32.toType(DataType.FLOAT16, false) : w32,
                                halfWeights ? b32.toType(DataType.FLOAT16, false) : b32,
                                EPS);
                assertEquals(DataType.FLOAT16, got.getDataType());
                // exactly float32's result rounded to float16 (w and b are exact in float16)
                assertArrayEquals(
                        want32.toType(DataType.FLOAT16, false)
                                .toType(DataType.FLOAT32, false)
                                .toFloatArray(),
                        got.toType(DataType.FLOAT32, false).toFloatArray(),
                        0f);
                assertWithinHalfUlp(got, want64, want32);
            }
            // the block: float16 parameters, same numbers
            GroupNorm gn = GroupNorm.builder().setNumGroups(2).build();
            gn.initialize(m, DataType.FLOAT16, shape);
            gn.getParameters()
                    .get("weight")
                    .getArray()
                    .set(w32.toType(DataType.FLOAT16, false).toByteBuffer());
            gn.getParameters()
                    .get("bias")
                    .getArray()
                    .set(b32.toType(DataType.FLOAT16, false).toByteBuffer());
            NDArray block = gn.forward(new ParameterStore(m, false), new NDList(x16), false).head();
            assertEquals(DataType.FLOAT16, block.getDataType());
            assertWithinHalfUlp(block, want64, want32);
        }
    }

    /**
     * Asserts {@code |got - want64| <= ulp16(want64) / 2 + e32} per element: one rounding to
     * float16 of a float32 result whose own error is {@code e32 = max |want32 - want64|}.
     *
     * @return the largest error
     */
    private static double assertWithinHalfUlp(NDArray got, NDArray want64, NDArray want32) {
        double[] g = got.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] w = want64.toDoubleArray();
        double[] w32 = want32.toType(DataType.FLOAT64, false).toDoubleArray();
        double e32 = 0;
        for (int i = 0; i < w.length; i++) {
            e32 = Math.max(e32, Math.abs(w32[i] - w[i]));
        }
        assertTrue(e32 < 1e-4, "float32 statistics error " + e32);
        double worst = 0;
        for (int i = 0; i < w.length; i++) {
            double bound = halfUlp16(w[i]) + e32;
            double err = Math.abs(g[i] - w[i]);
            assertTrue(err <= bound, i + ": |" + g[i] + " - " + w[i] + "| > " + bound);
            worst = Math.max(worst, err);
        }
        System.out.printf("float16 GroupNorm: worst error %.2e, float32's own %.2e%n", worst, e32);
        return worst;
    }

    /** Half of float16's spacing at {@code v} (normal range), e.g. 2^-11 for |v| in [1, 2). */
    private static double halfUlp16(double v) {
        double a = Math.abs(v);
        int exponent = a < 0x1p-14 ? -14 : Math.getExponent(a);
        return Math.scalb(1.0, exponent - 11);
    }
}
