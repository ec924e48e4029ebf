package dfbmodels.io;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * torchvision's ResNet ({@code resnet18/34/50/101/152} and any block counts) as a backbone of a
 * model whose parameters are named after it under a prefix: {@code ""} for the feedback ResNets,
 * {@code "encoder."} for DeepLabV3+.
 *
 * <p>The expected {@code state_dict} is computed as torchvision's {@code ResNet.__init__} builds
 * it, for the model's block type, block counts and input channels: {@code conv1} 7×7 to 64, widths
 * 64, 128, 256, 512 (×4 for bottlenecks), a downsample where the stride or width changes, {@code
 * fc} on {@code 512·e} features. The model's tensors differ from it only where the feedback widens
 * them: {@code layer1.0.conv1} and {@code layer1.0.downsample.0} take {@code fb·e} more inputs,
 * every {@code layer4} tensor has {@code fb} more planes (the feedback ResNets'). Those tensors
 * load as slices. A BasicBlock model has a {@code layer1.0.downsample} that torchvision's
 * ResNet18/34 lack (the feedback widens {@code layer1}'s input): it is initialised as the identity
 * shortcut torchvision has there.
 */
final class ResNetLayout extends BackboneLayout {

    private static final String LAYER1_CONV1 = "layer1.0.conv1.weight";
    private static final Pattern NAMESPACE = Pattern.compile("(conv1|bn1|fc)\\..*|layer\\d+\\..*");
    private static final String[] BN = {"weight", "bias", "running_mean", "running_var"};

    private final String prefix;
    private final boolean bottleneck;
    private final int[] layers;
    private final long inChannels;
    private final long classes;

    /** The prefix of a model's torchvision ResNet parameters, or null if it has none. */
    static String prefix(Map<String, Parameter> params) {
        for (String key : params.keySet()) {
            if (key.endsWith(LAYER1_CONV1)) {
                String p = key.substring(0, key.length() - LAYER1_CONV1.length());
                if ((p.isEmpty() || p.endsWith("."))
                        && params.containsKey(p + "conv1.weight")
                        && params.containsKey(p + "bn1.weight")
                        && params.containsKey(p + "layer4.0.conv1.weight")) {
                    return p;
                }
            }
        }
        return null;
    }

    ResNetLayout(Map<String, Parameter> params, String prefix) {
        this.prefix = prefix;
        bottleneck = params.containsKey(prefix + "layer1.0.conv3.weight");
        layers = new int[4];
        for (int i = 0; i < 4; i++) {
            while (params.containsKey(
                    prefix + "layer" + (i + 1) + "." + layers[i] + ".conv1.weight")) {
                layers[i]++;
            }
        }
        inChannels = shape(params, "conv1.weight").get(1);
        Parameter fc = params.get(prefix + "fc.weight");
        classes = fc == null ? -1 : fc.getArray().getShape().get(0);
        int e = bottleneck ? 4 : 1;
        conv("conv1", 64, inChannels, 7);
        bn("bn1", 64);
        long inplanes = 64;
        for (int i = 0; i < 4; i++) {
            long planes = 64L << i;
            for (int j = 0; j < layers[i]; j++) {
                String b = "layer" + (i + 1) + "." + j + ".";
                long in = j == 0 ? inplanes : planes * e;
                if (bottleneck) {
                    conv(b + "conv1", planes, in, 1);
                    bn(b + "bn1", planes);
                    conv(b + "conv2", planes, planes, 3);
                    bn(b + "bn2", planes);
                    conv(b + "conv3", planes * 4, planes, 1);
                    bn(b + "bn3", planes * 4);
                } else {
                    conv(b + "conv1", planes, in, 3);
                    bn(b + "bn1", planes);
                    conv(b + "conv2", planes, planes, 3);
                    bn(b + "bn2", planes);
                }
                if (j == 0 && (i > 0 || inplanes != planes * e)) {
                    conv(b + "downsample.0", planes * e, inplanes, 1);
                    bn(b + "downsample.1", planes * e);
                }
            }
            inplanes = planes * e;
        }
        if (classes > 0) {
            expected.put("fc.weight", new Shape(classes, 512L * e));
            expected.put("fc.bias", new Shape(classes));
            optional.add("fc.weight");
            optional.add("fc.bias");
        }
        String downsample = prefix + "layer1.0.downsample.";
        if (!expected.containsKey("layer1.0.downsample.0.weight")
                && params.containsKey(downsample + "0.weight")) {
            long n = shape(params, "layer1.0.downsample.0.weight").get(0);
            rules.put(downsample + "0.weight", Rules.identity(n, "the stem's channels"));
            for (String p : BN) {
                rules.put(downsample + "1." + p, Rules.batchNormIdentity(p, n));
            }
        }
    }

    private Shape shape(Map<String, Parameter> params, String key) {
        return params.get(prefix + key).getArray().getShape();
    }

    private void conv(String name, long out, long in, long kernel) {
        expected.put(name + ".weight", new Shape(out, in, kernel, kernel));
    }

    private void bn(String name, long channels) {
        for (String p : BN) {
            expected.put(name + "." + p, new Shape(channels));
        }
    }

    @Override
    String describe() {
        return BackboneIdentity.resnet(bottleneck, layers, inChannels);
    }

    @Override
    boolean inNamespace(String key) {
        return NAMESPACE.matcher(key).matches();
    }

    @Override
    String target(String key) {
        return prefix + key;
    }

    @Override
    String skipReason(String key, Shape shape) {
        if (classes < 0 && isFc(key)) {
            return "a classification head: the model has none";
        }
        return null;
    }

    private static boolean isFc(String key) {
        return key.equals("fc.weight") || key.equals("fc.bias");
    }

    /** {@code fc} of any class count fits: the head's overlapping rows are copied. */
    @Override
    boolean fits(String key, Shape file) {
        Shape want = expected.get(key);
        if (!isFc(key) || file.dimension() != want.dimension() || file.dimension() == 0) {
            return file.equals(want);
        }
        return file.slice(1).equals(want.slice(1)) && file.get(0) > 0;
    }

    @Override
    Part sourcePart(String key, Shape file) {
        if (!isFc(key) || file.get(0) <= classes) {
            return null;
        }
        return new Part(
                ":" + classes,
                new Shape(classes).addAll(file.slice(1)),
                "classes [0, "
                        + classes
                        + ") of the file's "
                        + file.get(0)
                        + " (the model has "
                        + classes
                        + "; classes ["
                        + classes
                        + ", "
                        + file.get(0)
                        + ") have no place)");
    }

    @Override
    String hint(String key, Shape found, Shape model) {
        if (key.equals("conv1.weight") && model != null && model.get(2) != found.get(2)) {
            return "the model's conv1 is "
                    + model.get(2)
                    + "x"
                    + model.get(3)
                    + " (ResNetStem.CIFAR) and the file's "
                    + found.get(2)
                    + "x"
                    + found.get(3)
                    + ": ImageNet backbones need torchvision's stem; build the model with the"
                    + " default ResNetStem.IMAGENET";
        }
        if (key.equals("conv1.weight") && found.dimension() == 4 && found.get(1) != inChannels) {
            return "the file's conv1 takes "
                    + found.get(1)
                    + " input channels and the model "
                    + inChannels
                    + ": build the model with optInChannels("
                    + found.get(1)
                    + ")";
        }
        if (found.equals(model)) {
            return "the file has the feedback model's own shape for "
                    + key
                    + ": a feedback model's state_dict loads with TorchWeights.load";
        }
        return null;
    }

    @Override
    boolean isHead(String modelKey) {
        return modelKey.startsWith(prefix) && isFc(modelKey.substring(prefix.length()));
    }
}
