package dfbmodels.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A torchvision architecture as a model's parameters imply it, and where each tensor of its {@code
 * state_dict} goes in the model: the contract between {@link BackboneLoader} and one family of
 * models ({@link ResNetLayout}, {@link VitLayout}). A new family (say a U-Net on a ResNet encoder
 * named {@code encoder.*}) is a new subclass and a line in {@link #of}.
 */
abstract class BackboneLayout {

    /** Every torchvision tensor this model takes, with the shape it must have, in file order. */
    final Map<String, Shape> expected = new LinkedHashMap<>();

    /** Keys of {@link #expected} that a file may lack (a headless backbone, no class token). */
    final Set<String> optional = new HashSet<>();

    /** Parameters set by a rule when the file has nothing for them, by model key. */
    final Map<String, Rule> rules = new LinkedHashMap<>();

    /** A parameter initialised by a rule rather than from the file. */
    interface Rule {

        /** What the rule sets in a parameter of this shape, for the report. */
        String describe(Shape shape, boolean zeroFeedbackInputs);

        /** Sets {@code value}, a CPU copy of the parameter, in place. */
        void apply(NDArray value, boolean zeroFeedbackInputs);
    }

    /**
     * Returns the layout of the torchvision backbone a model can take.
     *
     * @throws IllegalArgumentException if the model is of no family with a torchvision backbone
     */
    static BackboneLayout of(Block model, Map<String, Parameter> params) {
        if (VitLayout.matches(params)) {
            return new VitLayout(model, params);
        }
        String prefix = ResNetLayout.prefix(params);
        if (prefix != null) {
            return new ResNetLayout(params, prefix);
        }
        throw new IllegalArgumentException(
                "loadBackbone takes torchvision backbones into models with a torchvision ResNet"
                        + " (ResNet18/34/50, FeedbackResNet, DeepLabV3Plus's encoder) or Vision"
                        + " Transformer (VisionTransformer); this model ("
                        + model.getClass().getSimpleName()
                        + ", parameters"
                        + TorchWeights.abbreviate(java.util.List.copyOf(params.keySet()))
                        + ") is neither; load a state_dict of the model itself with"
                        + " TorchWeights.load");
    }

    /** Names the architecture for reports and messages. */
    abstract String describe();

    /**
     * Whether a torchvision key belongs to this architecture's {@code state_dict}: such a key that
     * is not expected means another architecture; any other key is an extra entry, skipped.
     */
    abstract boolean inNamespace(String key);

    /** The model key a torchvision key of {@link #expected} loads into. */
    abstract String target(String key);

    /**
     * Whether a file tensor of a key of {@link #expected} has the architecture's shape: by default
     * exactly the expected one.
     */
    boolean fits(String key, Shape file) {
        return file.equals(expected.get(key));
    }

    /**
     * A part of a tensor that loads instead of the whole: an {@link ai.djl.ndarray.index.NDIndex}
     * string, the shape it selects and what it is, for the report.
     */
    record Part(String index, Shape shape, String description) {}

    /** The part of a file tensor that loads, or null for the whole tensor. */
    Part sourcePart(String key, Shape file) {
        return null;
    }

    /** Why a tensor is skipped because the model has no place for it, or null if it has one. */
    abstract String skipReason(String key, Shape shape);

    /** A hint for a tensor whose shape does not fit, or null. */
    String hint(String key, Shape found, Shape model) {
        return null;
    }

    /** Whether a model parameter is part of the classification head (never frozen). */
    boolean isHead(String modelKey) {
        return false;
    }

    /** {@code (d0, d1, ...)} as PyTorch prints a shape. */
    static String str(Shape s) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < s.dimension(); i++) {
            sb.append(i == 0 ? "" : ", ").append(s.get(i));
        }
        return sb.append(s.dimension() == 1 ? ",)" : ")").toString();
    }
}
