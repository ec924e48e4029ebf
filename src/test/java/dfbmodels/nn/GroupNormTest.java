package dfbmodels.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
            GroupNorm gn = GroupNorm.builder().setNumGroups(3).build();
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> gn.initialize(m, DataType.FLOAT32, new Shape(1, 4, 2, 2)));
            assertTrue(e.getMessage().contains("channels=4"), e.getMessage());
            assertTrue(e.getMessage().contains("groups=3"), e.getMessage());
        }
    }
}
