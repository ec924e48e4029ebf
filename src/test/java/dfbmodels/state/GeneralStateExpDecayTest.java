package dfbmodels.state;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class GeneralStateExpDecayTest {

    /** Qinv diag(d) Q x per pixel, written out with loops on the host. */
    private static float[] byHand(
            float[] x, float[] q, float[] qinv, float[] s, double tau, int t, int b, int c, int p) {
        float[] out = new float[x.length];
        for (int n = 0; n < b; n++) {
            for (int k = 0; k < p; k++) {
                double[] z = new double[c];
                for (int i = 0; i < c; i++) {
                    for (int j = 0; j < c; j++) {
                        z[i] += q[i * c + j] * x[(n * c + j) * p + k];
                    }
                    z[i] *= Math.exp(-t / tau * Math.abs(s[i]));
                }
                for (int i = 0; i < c; i++) {
                    double v = 0;
                    for (int j = 0; j < c; j++) {
                        v += qinv[i * c + j] * z[j];
                    }
                    out[(n * c + i) * p + k] = (float) v;
                }
            }
        }
        return out;
    }

    @Test
    void computesQinvDiagQAndLeavesTheMatricesAlone() {
        try (NDManager m = NDManager.newBaseManager()) {
            int b = 2;
            int c = 5;
            GeneralStateExpDecay op = new GeneralStateExpDecay(c, 0.5f, 1f);
            op.initialize(m, DataType.FLOAT32, new Shape(b, c, 3, 4));
            NDArray q = op.getParameters().get("Q").getArray();
            NDArray qinv = op.getParameters().get("Qinv").getArray();
            NDArray s = op.getParameters().get("S").getArray();
            s.set(new float[] {1, 0.5f, 2, 1, 0.25f});
            // Xavier-uniform, bound sqrt(6 / (5 + 5)): not orthogonal, not each other's inverse
            float bound = (float) Math.sqrt(6.0 / 10);
            for (float v : q.toFloatArray()) {
                assertTrue(Math.abs(v) <= bound, "Q entry " + v);
            }
            NDArray product = qinv.matMul(q).sub(m.eye(c));
            assertTrue(product.abs().max().getFloat() > 0.1f, "Qinv is not Q's inverse");
            float[] q0 = q.toFloatArray();
            NDArray x = m.randomNormal(new Shape(b, c, 3, 4));
            ParameterStore ps = new ParameterStore(m, false);
            for (int t : new int[] {0, 1, 3}) {
                for (boolean training : new boolean[] {false, true}) {
                    NDArray got = op.apply(ps, x, t, training, null);
                    float[] want =
                            byHand(
                                    x.toFloatArray(),
                                    q0,
                                    qinv.toFloatArray(),
                                    s.toFloatArray(),
                                    0.5,
                                    t,
                                    b,
                                    c,
                                    12);
                    assertClose(
                            "t=" + t + (training ? " training" : ""),
                            got,
                            m.create(want, x.getShape()),
                            1e-6);
                }
            }
            assertArrayEquals(q0, q.toFloatArray(), "no re-orthogonalisation, ever");
            assertEquals(null, op.planTraining(ps, x, false));
            assertTrue(op.getParameters().get("Q").requiresGradient());
            assertTrue(op.getParameters().get("Qinv").requiresGradient());
        }
    }

    @Test
    void rejectsBadArguments() {
        assertEquals(
                "channels must be positive, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new GeneralStateExpDecay(0, 1, 1))
                        .getMessage());
        assertEquals(
                "tau must be positive and finite, got -1.0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new GeneralStateExpDecay(3, -1, 1))
                        .getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            GeneralStateExpDecay op = new GeneralStateExpDecay(3, 1, 1);
            op.initialize(m, DataType.FLOAT32, new Shape(1, 3, 2, 2));
            ParameterStore ps = new ParameterStore(m, false);
            assertEquals(
                    "GeneralStateExpDecay expects input of shape (B, 3, H, W), got (1, 4, 2, 2)",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            op.apply(
                                                    ps,
                                                    m.zeros(new Shape(1, 4, 2, 2)),
                                                    0,
                                                    false,
                                                    null))
                            .getMessage());
        }
    }
}
