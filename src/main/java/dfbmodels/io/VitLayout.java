package dfbmodels.io;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dfbmodels.FeedbackBlock;
import java.util.Map;

/**
 * torchvision's {@code VisionTransformer} as the backbone of the feedback Vision Transformer (SPEC
 * §7).
 *
 * <p>{@code conv_proj.*}, {@code encoder.layers.*} and {@code encoder.ln.*} load whole; {@code
 * encoder.pos_embedding} {@code (1, N + 1, D)} loads without its row 0, the class token's, into
 * {@code pos_embedding} {@code (1, N, D)}. {@code class_token} and {@code heads.*} are skipped:
 * this model has no class token and its head reads the tokens' mean. The model's layers torchvision
 * lacks start as what torchvision has there, nothing: {@code input_proj} ({@code D + fb -> D}) as
 * the identity on the D token channels (zero from the feedback channels, by option) with zero bias,
 * so the encoder sees the position-embedded patch tokens as torchvision's does; {@code state_proj}
 * ({@code D -> classFilters + fb}), when the class channels are D, as the identity into the class
 * channels with zero bias, so the state's class channels are the encoder's output. {@code fc_norm}
 * and {@code head} are left as initialised.
 */
final class VitLayout extends BackboneLayout {

    private static final String POS = "encoder.pos_embedding";

    private final long hidden;
    private final long patch;
    private final long grid;

    static boolean matches(Map<String, Parameter> params) {
        return params.containsKey("conv_proj.weight")
                && params.containsKey("pos_embedding")
                && params.containsKey("input_proj.weight")
                && params.containsKey("state_proj.weight")
                && params.containsKey("encoder.ln.weight");
    }

    VitLayout(Block model, Map<String, Parameter> params) {
        Shape conv = shape(params, "conv_proj.weight");
        hidden = conv.get(0);
        patch = conv.get(2);
        Shape pos = shape(params, "pos_embedding");
        grid = Math.round(Math.sqrt(pos.get(1)));
        expected.put("class_token", new Shape(1, 1, hidden));
        optional.add("class_token");
        expected.put("conv_proj.weight", conv);
        expected.put("conv_proj.bias", shape(params, "conv_proj.bias"));
        expected.put(POS, new Shape(1, pos.get(1) + 1, hidden));
        for (Map.Entry<String, Parameter> p : params.entrySet()) {
            if (p.getKey().startsWith("encoder.")) {
                expected.put(p.getKey(), p.getValue().getArray().getShape());
            }
        }
        rules.put("input_proj.weight", Rules.identity(hidden, "the token channels"));
        rules.put("input_proj.bias", Rules.constant(hidden, 0f, "0"));
        long classChannels =
                model instanceof FeedbackBlock ? ((FeedbackBlock) model).getClassChannels() : -1;
        if (classChannels == hidden) {
            rules.put("state_proj.weight", Rules.identity(hidden, "the encoder's channels"));
            rules.put(
                    "state_proj.bias",
                    Rules.constant(
                            hidden,
                            0f,
                            "0 into the class channels [0, "
                                    + hidden
                                    + "); the model's initialisation elsewhere"));
        }
    }

    private static Shape shape(Map<String, Parameter> params, String key) {
        return params.get(key).getArray().getShape();
    }

    @Override
    String describe() {
        long layers = expected.keySet().stream().filter(k -> k.endsWith(".ln_1.weight")).count();
        return BackboneIdentity.vit(patch, hidden, layers, grid);
    }

    @Override
    boolean inNamespace(String key) {
        return key.equals("class_token")
                || key.startsWith("conv_proj.")
                || key.startsWith("encoder.")
                || key.startsWith("heads.");
    }

    @Override
    String target(String key) {
        return key.equals(POS) ? "pos_embedding" : key;
    }

    @Override
    Part sourcePart(String key, Shape file) {
        if (!key.equals(POS)) {
            return null;
        }
        return new Part(
                ":, 1:, :",
                new Shape(file.get(0), file.get(1) - 1, file.get(2)),
                "rows [1, "
                        + file.get(1)
                        + ") of "
                        + str(file)
                        + ", the patch tokens' (row 0, the class token's, has no place)");
    }

    @Override
    String skipReason(String key, Shape shape) {
        if (key.equals("class_token")) {
            return "the class token: the model has none (its readout averages the tokens)";
        }
        if (key.startsWith("heads.")) {
            return "torchvision's head, which reads the class token: the model's head reads the"
                    + " tokens' mean (its fc_norm and head are left as initialised)";
        }
        return null;
    }

    @Override
    String hint(String key, Shape found, Shape model) {
        if (key.equals(POS) && found.dimension() == 3) {
            long n = found.get(1) - 1;
            long g = Math.round(Math.sqrt(n));
            if (g * g == n && g != grid) {
                return "the file's position embedding is for a "
                        + g
                        + "x"
                        + g
                        + " patch grid and the model's for "
                        + grid
                        + "x"
                        + grid
                        + ": build the model with optImageSize("
                        + g * patch
                        + ")";
            }
        }
        if (key.equals("conv_proj.weight") && found.dimension() == 4) {
            return "the file's patches are "
                    + found.get(2)
                    + "x"
                    + found.get(3)
                    + " into "
                    + found.get(0)
                    + " channels, the model's "
                    + patch
                    + "x"
                    + patch
                    + " into "
                    + hidden
                    + ": build the model with optPatchSize and optHiddenDim to match";
        }
        return null;
    }
}
