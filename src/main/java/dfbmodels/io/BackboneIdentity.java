package dfbmodels.io;

import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Map;

/**
 * Names the torchvision architecture a {@code state_dict} holds, from its keys and shapes alone,
 * and the builder call that makes a feedback model take it: the first line of a {@link
 * TorchWeights#loadBackbone refusal}, so that "not a backbone of this model" says what the file is.
 */
final class BackboneIdentity {

    private BackboneIdentity() {}

    /** torchvision's name for a ResNet of these blocks, or null. */
    static String resnetName(boolean bottleneck, int[] layers) {
        if (Arrays.equals(layers, new int[] {2, 2, 2, 2}) && !bottleneck) {
            return "resnet18";
        } else if (Arrays.equals(layers, new int[] {3, 4, 6, 3})) {
            return bottleneck ? "resnet50" : "resnet34";
        } else if (Arrays.equals(layers, new int[] {3, 4, 23, 3}) && bottleneck) {
            return "resnet101";
        } else if (Arrays.equals(layers, new int[] {3, 8, 36, 3}) && bottleneck) {
            return "resnet152";
        }
        return null;
    }

    /** {@code torchvision resnet18 (BasicBlock [2, 2, 2, 2], 3 input channels)}. */
    static String resnet(boolean bottleneck, int[] layers, long inChannels) {
        String name = resnetName(bottleneck, layers);
        return "torchvision "
                + (name == null ? "ResNet" : name)
                + " ("
                + (bottleneck ? "Bottleneck " : "BasicBlock ")
                + Arrays.toString(layers)
                + ", "
                + inChannels
                + (inChannels == 1 ? " input channel)" : " input channels)");
    }

    /** {@code torchvision VisionTransformer (patch 4, hidden 64, 2 layers, 8x8 patch grid)}. */
    static String vit(long patch, long hidden, long layers, long grid) {
        return "torchvision VisionTransformer (patch "
                + patch
                + ", hidden "
                + hidden
                + ", "
                + layers
                + (layers == 1 ? " layer, " : " layers, ")
                + grid
                + "x"
                + grid
                + " patch grid)";
    }

    /**
     * What a file holds and how to build a model for it, e.g. {@code the file holds a torchvision
     * resnet50 (...): build the model with ResNet50.builder()}.
     *
     * @param file the file's shapes by key, prefixes stripped
     */
    static String of(Map<String, Shape> file) {
        Shape conv1 = file.get("conv1.weight");
        if (conv1 != null && conv1.dimension() == 4 && file.containsKey("layer1.0.conv1.weight")) {
            boolean bottleneck = file.containsKey("layer1.0.conv3.weight");
            int[] layers = new int[4];
            for (int i = 0; i < 4; i++) {
                while (file.containsKey("layer" + (i + 1) + "." + layers[i] + ".conv1.weight")) {
                    layers[i]++;
                }
            }
            String name = resnetName(bottleneck, layers);
            String builder;
            if ("resnet18".equals(name) || "resnet34".equals(name) || "resnet50".equals(name)) {
                builder = "ResNet" + name.substring(6) + ".builder()";
            } else {
                builder =
                        "FeedbackResNet.builder().setBlockType("
                                + (bottleneck ? "BOTTLENECK" : "BASIC")
                                + ").setLayers("
                                + Arrays.toString(layers).replaceAll("[\\[\\]]", "")
                                + ")";
            }
            if (conv1.get(1) != 3) {
                builder += ".optInChannels(" + conv1.get(1) + ")";
            }
            return "the file holds a "
                    + resnet(bottleneck, layers, conv1.get(1))
                    + ": a feedback model takes it built with "
                    + builder;
        }
        Shape conv = file.get("conv_proj.weight");
        Shape pos = file.get("encoder.pos_embedding");
        if (conv != null && conv.dimension() == 4 && pos != null && pos.dimension() == 3) {
            int layers = 0;
            while (file.containsKey("encoder.layers.encoder_layer_" + layers + ".ln_1.weight")) {
                layers++;
            }
            long grid = Math.round(Math.sqrt(pos.get(1) - 1));
            Shape mlp = file.get("encoder.layers.encoder_layer_0.mlp.0.weight");
            return "the file holds a "
                    + vit(conv.get(2), conv.get(0), layers, grid)
                    + ": a feedback model takes it built with VisionTransformer.builder()"
                    + ".optImageSize("
                    + grid * conv.get(2)
                    + ").optPatchSize("
                    + conv.get(2)
                    + ").optHiddenDim("
                    + conv.get(0)
                    + ").optNumLayers("
                    + layers
                    + ")"
                    + (mlp == null ? "" : ".optMlpDim(" + mlp.get(0) + ")")
                    + (conv.get(1) != 3 ? ".optInChannels(" + conv.get(1) + ")" : "")
                    + " and optNumHeads as it was trained with";
        }
        return "the file holds neither a torchvision ResNet nor a VisionTransformer state_dict";
    }
}
