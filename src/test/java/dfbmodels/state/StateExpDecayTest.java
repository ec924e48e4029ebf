package dfbmodels.state;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dfbmodels.Fixtures;
import java.io.IOException;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StateExpDecayTest {

    private static void setParam(StateExpDecay op, String name, NDArray value) {
        NDArray p = op.getParameters().get(name).getArray();
        p.set(value.toType(p.getDataType(), false).reshape(p.getShape()).toByteBuffer());
    }

    // the repository's seeded fixture (tools/make_fixtures.py) and the original's, when present
    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "seeded_state_exp_decay_f24.io.safetensors",
                "state_exp_decay_f24.io.safetensors"
            })
    void reproducesTheOriginalAtSteps013(String fixture) throws IOException {
        Map<String, String> meta = Fixtures.metadata(fixture);
        float tau = Float.parseFloat(meta.get("tau"));
        float alpha = Float.parseFloat(meta.get("alpha"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDList io = Fixtures.load(m, fixture);
            NDArray x = io.get("input");
            StateExpDecay op = new StateExpDecay(24, tau, alpha);
            op.initialize(m, DataType.FLOAT32, x.getShape());
            setParam(op, "Q", io.get("Q"));
            setParam(op, "S", io.get("S"));
            ParameterStore ps = new ParameterStore(m, false);
            for (int t : new int[] {0, 1, 3}) {
                assertClose(
                        "output.t" + t, op.apply(ps, x, t, false), io.get("output.t" + t), 1e-5);
            }
        }
    }

    // the repository's seeded fixture (tools/make_fixtures.py) and the original's, when present
    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "seeded_state_exp_decay_f24.io.safetensors",
                "state_exp_decay_f24.io.safetensors"
            })
    void qrMatchesTorchLinalgQr(String fixture) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList io = Fixtures.load(m, fixture);
            NDList qr = QrDecomposition.qr(io.get("Q"));
            NDArray q = qr.get(0);
            assertOrthogonal(q, 1e-5);
            // equal up to column signs; with the same LAPACK convention the signs agree too
            NDArray signs = q.mul(io.get("qr.Q")).sum(new int[] {0}).sign();
            assertClose("qr.Q (up to column signs)", q.mul(signs), io.get("qr.Q"), 1e-5);
            assertClose("qr.Q", q, io.get("qr.Q"), 1e-5);
            assertClose("qr.R", qr.get(1), io.get("qr.R"), 1e-5);
            // the square fast path (LQ of the transposed buffer) gives the same factor
            assertClose(
                    "orthogonalFactor",
                    QrDecomposition.orthogonalFactor(io.get("Q")),
                    io.get("qr.Q"),
                    1e-5);
            assertClose(
                    "orthogonalFactor float64",
                    QrDecomposition.orthogonalFactor(io.get("Q").toType(DataType.FLOAT64, false)),
                    qr64(io.get("Q")),
                    1e-12);
            // and in float64
            NDList qr64 = QrDecomposition.qr(io.get("Q").toType(DataType.FLOAT64, false));
            assertEquals(DataType.FLOAT64, qr64.get(0).getDataType());
            assertClose("qr.Q float64", qr64.get(0), io.get("qr.Q"), 1e-5);
            assertOrthogonal(qr64.get(0), 1e-12);
        }
    }

    // the repository's seeded fixture (tools/make_fixtures.py) and the original's, when present
    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "seeded_state_exp_decay_f24.io.safetensors",
                "state_exp_decay_f24.io.safetensors"
            })
    void trainingReorthogonalisesQInPlaceAtStepZeroOnly(String fixture) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, String> meta = Fixtures.metadata(fixture);
            NDList io = Fixtures.load(m, fixture);
            NDArray x = io.get("input");
            StateExpDecay op =
                    new StateExpDecay(
                            24,
                            Float.parseFloat(meta.get("tau")),
                            Float.parseFloat(meta.get("alpha")));
            op.initialize(m, DataType.FLOAT32, x.getShape());
            setParam(op, "Q", io.get("Q"));
            setParam(op, "S", io.get("S"));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray qParam = op.getParameters().get("Q").getArray();
            op.apply(ps, x, 1, true);
            assertClose("Q untouched at t=1", qParam, io.get("Q"), 0);
            NDArray out = op.apply(ps, x, 0, true);
            assertClose("Q replaced by qr(Q).Q", qParam, io.get("qr.Q"), 1e-5);
            assertOrthogonal(qParam, 1e-5);
            // at t = 0, d = 1, so with an orthogonal Q the op is the identity
            assertClose("identity at t=0", out, x, 1e-5);
        }
    }

    /** Independent per-pixel evaluation of out = Q^T diag(d) Q x in double precision. */
    private static double[] reference(
            double[] x, Shape shape, double[] q, double[] s, double tau, double alpha, int t) {
        int b = (int) shape.get(0);
        int c = (int) shape.get(1);
        int hw = (int) (shape.get(2) * shape.get(3));
        double[] out = new double[x.length];
        double[] d = new double[c];
        for (int j = 0; j < c; j++) {
            d[j] = Math.exp(t * (-(1 / tau) * Math.pow(Math.abs(s[j]), alpha)));
        }
        for (int n = 0; n < b; n++) {
            for (int p = 0; p < hw; p++) {
                double[] z = new double[c];
                for (int j = 0; j < c; j++) {
                    for (int k = 0; k < c; k++) {
                        z[j] += q[j * c + k] * x[(n * c + k) * hw + p];
                    }
                    z[j] *= d[j];
                }
                for (int k = 0; k < c; k++) {
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += q[j * c + k] * z[j];
                    }
                    out[(n * c + k) * hw + p] = sum;
                }
            }
        }
        return out;
    }

    @Test
    void followsTheFormulaForOtherTauAndAlphaInBothPrecisions() {
        Random random = new Random(7);
        int c = 16;
        Shape shape = new Shape(2, c, 3, 5);
        double[] x = new double[(int) shape.size()];
        double[] q = new double[c * c];
        double[] s = new double[c];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextGaussian();
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = random.nextGaussian() / 4;
        }
        for (int i = 0; i < c; i++) {
            s[i] = random.nextGaussian();
        }
        float[][] tauAlpha = {{0.3f, 2.5f}, {4f, 0.5f}, {1f, 1f}};
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            double tol = type == DataType.FLOAT64 ? 1e-12 : 1e-5;
            for (float[] ta : tauAlpha) {
                try (NDManager m = NDManager.newBaseManager()) {
                    StateExpDecay op = new StateExpDecay(c, ta[0], ta[1]);
                    op.initialize(m, type, shape);
                    setParam(op, "Q", m.create(q, new Shape(c, c)));
                    setParam(op, "S", m.create(s));
                    NDArray input = m.create(x, shape).toType(type, false);
                    ParameterStore ps = new ParameterStore(m, false);
                    for (int t : new int[] {0, 1, 2, 5}) {
                        NDArray got = op.apply(ps, input, t, false);
                        assertEquals(type, got.getDataType());
                        NDArray want = m.create(reference(x, shape, q, s, ta[0], ta[1], t), shape);
                        assertClose(
                                type + " tau=" + ta[0] + " alpha=" + ta[1] + " t=" + t,
                                got,
                                want,
                                tol);
                    }
                }
            }
        }
    }

    @Test
    void initialQIsOrthogonalAndSIsOnes() {
        try (NDManager m = NDManager.newBaseManager()) {
            StateExpDecay op = new StateExpDecay(40, 1f, 1f);
            op.initialize(m, DataType.FLOAT32, new Shape(1, 40, 2, 2));
            assertOrthogonal(op.getParameters().get("Q").getArray(), 1e-5);
            assertClose("S", op.getParameters().get("S").getArray(), m.ones(new Shape(40)), 0);
            assertEquals(true, op.getParameters().get("Q").requiresGradient());
            assertEquals(false, op.getParameters().get("S").requiresGradient());
            assertEquals(false, op.getParameters().get("tau").requiresGradient());
        }
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new StateExpDecay(8, 0f, 1f));
        assertEquals("tau must be positive and finite, got 0.0", e.getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            StateExpDecay op = new StateExpDecay(8, 1f, 1f);
            op.initialize(m, DataType.FLOAT32, new Shape(1, 8, 2, 2));
            NDArray wrong = m.zeros(new Shape(1, 6, 2, 2));
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> op.apply(new ParameterStore(m, false), wrong, 0, false));
            assertEquals(
                    "StateExpDecay expects input of shape (B, 8, H, W), got (1, 6, 2, 2)",
                    e.getMessage());
        }
    }

    @Test
    void uniformShortcutComputesDTimesXWithoutQ() {
        int c = 12;
        Shape shape = new Shape(2, c, 3, 4);
        float tau = 0.5f;
        float alpha = 2f;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(shape);
            NDArray w = m.randomNormal(shape);
            // |S| uniform with mixed signs; Q an exactly orthogonal rotation
            NDArray sValues = m.create(new float[] {0.7f, -0.7f}).tile(c / 2);
            NDArray rotation = QrDecomposition.orthogonalFactor(m.randomNormal(new Shape(c, c)));
            NDArray[] outs = new NDArray[2];
            NDArray[] xGrads = new NDArray[2];
            for (int i = 0; i < 2; i++) {
                boolean shortcut = i == 0;
                StateExpDecay op = new StateExpDecay(c, tau, alpha, shortcut);
                op.initialize(m, DataType.FLOAT32, shape);
                setParam(op, "Q", rotation);
                setParam(op, "S", sValues);
                ParameterStore ps = new ParameterStore(m, false);
                StateExpDecay.TrainingPlan plan = op.planTraining(ps, x, false);
                assertEquals(shortcut, plan.isShortcut());
                assertEquals(!shortcut, plan.reorthogonalizes());
                NDArray input = x.duplicate();
                input.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray sum = null;
                    for (int t = 0; t < 3; t++) {
                        NDArray out = op.apply(ps, input, t, true, plan);
                        // d = exp(-t/tau * 0.7^2) for every channel
                        double d = Math.exp(-t / tau * 0.49);
                        assertClose("d*x at t=" + t, out, x.mul(d), shortcut ? 1e-6 : 1e-5);
                        sum = sum == null ? out : sum.add(out);
                    }
                    outs[i] = sum;
                    gc.backward(sum.mul(w).sum());
                }
                double dSum = 1 + Math.exp(-0.49 / tau) + Math.exp(-0.98 / tau);
                xGrads[i] = input.getGradient().duplicate();
                assertClose("dL/dx", xGrads[i], w.mul(dSum), 1e-5);
                float qGrad =
                        op.getParameters().get("Q").getArray().getGradient().abs().max().getFloat();
                if (shortcut) {
                    assertEquals(0f, qGrad, "Q takes no part in the shortcut");
                } else {
                    assertTrue(qGrad > 1e-2, "Q is trained without the shortcut: " + qGrad);
                }
            }
            assertClose("outputs with and without the shortcut", outs[0], outs[1], 1e-5);
            assertClose("gradients with and without the shortcut", xGrads[0], xGrads[1], 1e-5);
        }
    }

    @Test
    void uniformShortcutKeepsAnOrthogonalQAndReorthogonalisesAnyOther() {
        int c = 6;
        Shape shape = new Shape(1, c, 2, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(shape);
            NDArray minusEye = m.eye(c).neg();
            // LAPACK's QR of -I is I * (-I): the original's training forward turns Q = -I into I
            StateExpDecay exact = new StateExpDecay(c, 1f, 1f, false);
            exact.initialize(m, DataType.FLOAT32, shape);
            setParam(exact, "Q", minusEye);
            exact.apply(new ParameterStore(m, false), x, 0, true);
            assertClose("QR(-I)", exact.getParameters().get("Q").getArray(), m.eye(c), 0);
            // the shortcut leaves an orthogonal Q as it is (any orthogonal Q gives d*x)
            StateExpDecay op = new StateExpDecay(c, 1f, 1f, true);
            op.initialize(m, DataType.FLOAT32, shape);
            NDArray q = op.getParameters().get("Q").getArray();
            setParam(op, "Q", minusEye);
            ParameterStore ps = new ParameterStore(m, false);
            assertClose("t=0", op.apply(ps, x, 0, true), x, 0);
            assertClose("Q kept", q, minusEye, 0);
            // a later step called on its own also takes the shortcut: Q gets no gradient
            NDArray input = x.duplicate();
            input.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = op.apply(ps, input, 1, true);
                assertClose("t=1", out, x.mul(Math.exp(-1)), 1e-6);
                gc.backward(out.sum());
            }
            assertEquals(0f, q.getGradient().abs().max().getFloat(), "Q's gradient at t=1");
            // a Q that is not orthogonal (e.g. saved after an optimiser step) is replaced by its
            // QR factor, as the original does
            NDArray perturbed =
                    minusEye.add(m.randomNormal(0f, 1e-3f, new Shape(c, c), DataType.FLOAT32));
            setParam(op, "Q", perturbed);
            StateExpDecay.TrainingPlan plan = op.planTraining(ps, x, false);
            assertTrue(plan.isShortcut() && plan.reorthogonalizes());
            assertClose("t=0", op.apply(ps, x, 0, true, plan), x, 0);
            assertClose("Q = qr(Q).Q", q, QrDecomposition.orthogonalFactor(perturbed), 0);
            // non-uniform S: the general op, whatever the option
            setParam(op, "S", m.arange(1f, c + 1f));
            plan = op.planTraining(ps, x, false);
            assertTrue(!plan.isShortcut() && plan.reorthogonalizes());
        }
    }

    private static NDArray qr64(NDArray a) {
        return QrDecomposition.qr(a.toType(DataType.FLOAT64, false)).get(0);
    }

    @Test
    void squareFastPathEqualsTheGeneralQrOnLargerMatrices() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(300, 300)).toType(DataType.FLOAT64, false);
            assertClose("LQ path vs QR path", QrDecomposition.orthogonalFactor(a), qr64(a), 1e-10);
        }
    }

    static void assertOrthogonal(NDArray q, double tol) {
        long n = q.getShape().get(1);
        NDArray eye = q.getManager().eye((int) n).toType(q.getDataType(), false);
        assertClose("Q^T Q = I", q.transpose().matMul(q), eye, tol);
    }
}
