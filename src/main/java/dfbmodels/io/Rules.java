package dfbmodels.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The rules {@link BackboneLayout}s initialise parameters by where the feedback model has a layer
 * the pretrained network lacks: that layer starts as the identity the pretrained network has there.
 */
final class Rules {

    /** The library's BatchNorm epsilon, as DJL hands it to LibTorch (a float widened). */
    static final double BN_EPS = 1e-5f;

    private Rules() {}

    /**
     * A linear weight {@code (out, in)} or 1×1 convolution weight {@code (out, in, 1, 1)}: output
     * {@code i < n} copies input {@code i}; with zeroed feedback inputs, outputs {@code [0, n)} get
     * nothing from inputs {@code [n, in)}; outputs from {@code n} on keep the model's values.
     */
    static BackboneLayout.Rule identity(long n, String inputs) {
        return new BackboneLayout.Rule() {
            @Override
            public String describe(Shape shape, boolean zeroFeedbackInputs) {
                boolean extra = shape.get(1) > n;
                return "identity from "
                        + inputs
                        + " [0, "
                        + n
                        + ") into outputs [0, "
                        + n
                        + ")"
                        + (extra && zeroFeedbackInputs ? ", zero from the other inputs" : "")
                        + ((extra && !zeroFeedbackInputs) || shape.get(0) > n
                                ? "; the model's initialisation elsewhere"
                                : "");
            }

            @Override
            public void apply(NDArray value, boolean zeroFeedbackInputs) {
                Shape s = value.getShape();
                NDArray eye = value.getManager().eye((int) n, (int) n, 0, value.getDataType());
                if (s.dimension() == 4) {
                    eye = eye.reshape(n, n, 1, 1);
                }
                value.set(new NDIndex(":{}, :{}", n, n), eye);
                if (zeroFeedbackInputs && s.get(1) > n) {
                    value.set(new NDIndex(":{}, {}:", n, n), 0f);
                }
            }
        };
    }

    /** Elements {@code [0, n)} of a vector set to {@code v}. */
    static BackboneLayout.Rule constant(long n, double v, String why) {
        return new BackboneLayout.Rule() {
            @Override
            public String describe(Shape shape, boolean zeroFeedbackInputs) {
                return why;
            }

            @Override
            public void apply(NDArray value, boolean zeroFeedbackInputs) {
                // v rounded once to the parameter's type: 1 - eps stays exact in float64
                NDArray fill =
                        value.getManager()
                                .create(v)
                                .toType(value.getDataType(), false)
                                .broadcast(new Shape(n));
                value.set(new NDIndex(":{}", n), fill);
            }
        };
    }

    /**
     * The four vectors of a BatchNorm set so that in eval mode it is the identity, exactly in
     * float32 and float64: weight 1, bias 0, running mean 0, running variance {@code 1 - eps} (so
     * that {@code var + eps} is 1 in either type).
     */
    static BackboneLayout.Rule batchNormIdentity(String parameter, long n) {
        switch (parameter) {
            case "weight":
                return constant(n, 1, "1 (an identity BatchNorm)");
            case "running_var":
                return constant(
                        n,
                        1 - BN_EPS,
                        "1 - eps, so that in eval mode this BatchNorm is the identity exactly");
            default:
                return constant(n, 0, "0 (an identity BatchNorm)");
        }
    }
}
