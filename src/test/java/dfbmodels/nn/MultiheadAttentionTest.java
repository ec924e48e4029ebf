package dfbmodels.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class MultiheadAttentionTest {

    /** The block's formula written out per head with plain loops, in double precision. */
    private static double[] reference(
            double[] x, double[] w, double[] b, double[] wo, double[] bo, int n, int e, int h) {
        int d = e / h;
        double[] qkv = new double[n * 3 * e];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < 3 * e; o++) {
                double s = b[o];
                for (int k = 0; k < e; k++) {
                    s += x[i * e + k] * w[o * e + k];
                }
                qkv[i * 3 * e + o] = s;
            }
        }
        double[] heads = new double[n * e];
        for (int head = 0; head < h; head++) {
            for (int i = 0; i < n; i++) {
                double[] a = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += qkv[i * 3 * e + head * d + c] * qkv[j * 3 * e + e + head * d + c];
                    }
                    a[j] = s / Math.sqrt(d);
                    max = Math.max(max, a[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    a[j] = Math.exp(a[j] - max);
                    sum += a[j];
                }
                for (int c = 0; c < d; c++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) {
                        s += a[j] / sum * qkv[j * 3 * e + 2 * e + head * d + c];
                    }
                    heads[i * e + head * d + c] = s;
                }
            }
        }
        double[] y = new double[n * e];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < e; o++) {
                double s = bo[o];
                for (int k = 0; k < e; k++) {
                    s += heads[i * e + k] * wo[o * e + k];
                }
                y[i * e + o] = s;
            }
        }
        return y;
    }

    @Test
    void matchesTheFormulaAndItsGradientSurvivesTheGarbageCollector() {
        Engine.getInstance().setRandomSeed(12);
        int n = 5;
        int e = 6;
        int h = 3;
        try (NDManager m = NDManager.newBaseManager()) {
            MultiheadAttention att =
                    MultiheadAttention.builder().setEmbedDim(e).setNumHeads(h).build();
            Shape in = new Shape(1, n, e);
            att.initialize(m, DataType.FLOAT64, in);
            // non-zero biases, so every parameter matters
            att.getParameters()
                    .get("in_proj_bias")
                    .getArray()
                    .set(
                            m.randomNormal(new Shape(3 * e))
                                    .toType(DataType.FLOAT64, false)
                                    .toDoubleArray());
            NDArray x = m.randomNormal(in).toType(DataType.FLOAT64, false);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray y = att.forward(ps, new NDList(x), false).head();
            double[] want =
                    reference(
                            x.toDoubleArray(),
                            att.getParameters().get("in_proj_weight").getArray().toDoubleArray(),
                            att.getParameters().get("in_proj_bias").getArray().toDoubleArray(),
                            att.getChildren()
                                    .get("01out_proj")
                                    .getParameters()
                                    .get("weight")
                                    .getArray()
                                    .toDoubleArray(),
                            att.getChildren()
                                    .get("01out_proj")
                                    .getParameters()
                                    .get("bias")
                                    .getArray()
                                    .toDoubleArray(),
                            n,
                            e,
                            h);
            double[] got = y.toDoubleArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], 1e-12, "output " + i);
            }

            // d sum(y * r) / dx against central differences; the garbage collector runs and direct
            // buffers are reused between forward and backward, which exposed a gradient computed
            // from freed memory (a scale made with div(Number))
            NDArray r = m.randomNormal(in).toType(DataType.FLOAT64, false);
            NDArray xg = x.duplicate();
            xg.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = att.forward(ps, new NDList(xg), true).head().mul(r).sum();
                for (int i = 0; i < 3; i++) {
                    System.gc();
                    for (int k = 0; k < 200; k++) {
                        m.create(1e30f * k).close();
                    }
                }
                gc.backward(loss);
            }
            double[] grad = xg.getGradient().toDoubleArray();
            double step = 1e-6;
            for (int i = 0; i < n * e; i++) {
                NDIndex at = new NDIndex(0, i / e, i % e);
                double[] f = new double[2];
                for (int s = 0; s < 2; s++) {
                    NDArray xs = x.duplicate();
                    xs.set(at, x.get(at).getDouble() + (s == 0 ? step : -step));
                    f[s] = att.forward(ps, new NDList(xs), false).head().mul(r).sum().getDouble();
                }
                double numeric = (f[0] - f[1]) / (2 * step);
                assertEquals(numeric, grad[i], 1e-6 * Math.max(1, Math.abs(numeric)), "dx " + i);
            }
        }
    }

    @Test
    void widthsThatDoNotSplitIntoHeadsAreRejected() {
        IllegalArgumentException ex =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> MultiheadAttention.builder().setEmbedDim(10).setNumHeads(4).build());
        assertEquals(
                "embedDim=10 must be divisible by numHeads=4 (every head gets embedDim/numHeads"
                        + " channels); valid numHeads for embedDim=10: 1, 2, 5, 10",
                ex.getMessage());
        ex =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                MultiheadAttention.builder()
                                        .setEmbedDim(8)
                                        .setNumHeads(2)
                                        .optDropout(1.5f)
                                        .build());
        assertEquals("dropout must be in [0, 1), got 1.5", ex.getMessage());
    }
}
