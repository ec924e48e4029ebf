package dfbmodels.models;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.initializer.XavierInitializer;
import dfbmodels.nn.NamedSequentialBlock;

/** Layer factories with torchvision's ResNet hyper-parameters and initialisation. */
final class Layers {

    private Layers() {}

    /**
     * A bias-free convolution initialised Kaiming-normal (fan_out, ReLU gain), like torchvision.
     */
    static Conv2d conv(int filters, int kernel, int stride, int padding, int dilation) {
        Conv2d conv =
                Conv2d.builder()
                        .setKernelShape(new Shape(kernel, kernel))
                        .setFilters(filters)
                        .optStride(new Shape(stride, stride))
                        .optPadding(new Shape(padding, padding))
                        .optDilation(new Shape(dilation, dilation))
                        .optBias(false)
                        .build();
        conv.setInitializer(
                kaiming(XavierInitializer.FactorType.OUT), ai.djl.nn.Parameter.Type.WEIGHT);
        return conv;
    }

    /**
     * A convolution initialised like segmentation_models_pytorch's decoders: Kaiming-uniform
     * (fan_in, ReLU gain), zero bias.
     */
    static Conv2d decoderConv(
            int filters, int kernel, int padding, int dilation, int groups, boolean bias) {
        Conv2d conv =
                Conv2d.builder()
                        .setKernelShape(new Shape(kernel, kernel))
                        .setFilters(filters)
                        .optPadding(new Shape(padding, padding))
                        .optDilation(new Shape(dilation, dilation))
                        .optGroups(groups)
                        .optBias(bias)
                        .build();
        conv.setInitializer(
                new XavierInitializer(
                        XavierInitializer.RandomType.UNIFORM, XavierInitializer.FactorType.IN, 6f),
                ai.djl.nn.Parameter.Type.WEIGHT);
        return conv;
    }

    /**
     * segmentation_models_pytorch's {@code SeparableConv2d}: a depthwise {@code k×k} conv ({@code
     * groups = in}) then a pointwise 1×1 conv, both without bias; indexed 0 and 1.
     */
    static SequentialBlock separable(int in, int out, int padding, int dilation) {
        return new SequentialBlock()
                .add(decoderConv(in, 3, padding, dilation, in, false))
                .add(decoderConv(out, 1, 0, 1, 1, false));
    }

    /** conv → BN → ReLU, indexed 0, 1, 2 like an {@code nn.Sequential}. */
    static SequentialBlock convBnRelu(Block conv) {
        return new SequentialBlock()
                .add(conv)
                .add(batchNorm())
                .add(ai.djl.nn.Activation.reluBlock());
    }

    /** BatchNorm with PyTorch's defaults: eps 1e-5, momentum 0.1 (DJL's 0.9 = 1 - PyTorch's). */
    static BatchNorm batchNorm() {
        return BatchNorm.builder().optEpsilon(1e-5f).optMomentum(0.9f).build();
    }

    /** A linear layer with Kaiming-normal (fan_in) weight and zero bias. */
    static Linear linear(int units) {
        Linear fc = Linear.builder().setUnits(units).build();
        fc.setInitializer(
                kaiming(XavierInitializer.FactorType.IN), ai.djl.nn.Parameter.Type.WEIGHT);
        return fc;
    }

    static XavierInitializer kaiming(XavierInitializer.FactorType factor) {
        return new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN, factor, 2f);
    }

    /** torchvision's ResNet stem without the max-pool: {@code conv1} 7×7/2 → {@code bn1} → ReLU. */
    static NamedSequentialBlock stem() {
        return stem(64);
    }

    /** {@link #stem()} with {@code width} filters instead of 64. */
    static NamedSequentialBlock stem(int width) {
        return new NamedSequentialBlock()
                .add("conv1", conv(width, 7, 2, 3, 1))
                .add("bn1", batchNorm())
                .add("relu", ai.djl.nn.Activation.reluBlock());
    }

    /**
     * The CIFAR ResNet stem with {@code width} filters: {@code conv1} 3×3/1 → {@code bn1} → ReLU,
     * no max-pool.
     */
    static NamedSequentialBlock cifarStem(int width) {
        return new NamedSequentialBlock()
                .add("conv1", conv(width, 3, 1, 1, 1))
                .add("bn1", batchNorm())
                .add("relu", ai.djl.nn.Activation.reluBlock());
    }

    /**
     * {@code layer1..layer4} of a ResNet, widths 64, 128, 256 and {@code lastPlanes}; {@code
     * layer1} takes {@code inplanes} channels, layers 2 and 3 have stride 2, and {@code layer4}
     * stride 2 or, when {@code dilateLast}, stride 1 with dilation 2 (output stride 16).
     */
    static NamedSequentialBlock resnetLayers(
            ResidualBlockType type,
            int inplanes,
            int lastPlanes,
            int[] blocks,
            boolean dilateLast) {
        return resnetLayers(type, 64, inplanes, lastPlanes, blocks, dilateLast);
    }

    /**
     * {@link #resnetLayers(ResidualBlockType, int, int, int[], boolean)} with widths {@code width},
     * {@code 2·width}, {@code 4·width} and {@code lastPlanes}.
     */
    static NamedSequentialBlock resnetLayers(
            ResidualBlockType type,
            int width,
            int inplanes,
            int lastPlanes,
            int[] blocks,
            boolean dilateLast) {
        int[] planes = {width, 2 * width, 4 * width, lastPlanes};
        NamedSequentialBlock layers = new NamedSequentialBlock();
        for (int i = 0; i < 4; i++) {
            boolean dilated = i == 3 && dilateLast;
            int stride = i == 0 || dilated ? 1 : 2;
            layers.add(
                    "layer" + (i + 1),
                    makeLayer(type, inplanes, planes[i], blocks[i], stride, dilated ? 2 : 1));
            inplanes = planes[i] * type.expansion();
        }
        return layers;
    }

    /**
     * torchvision's {@code ResNet._make_layer}: {@code blocks} residual blocks, the first with
     * {@code stride} (or {@code dilation}) and a 1×1 conv + BN downsample when the shape changes.
     *
     * @return the layer, indexed like {@code nn.Sequential}
     */
    static SequentialBlock makeLayer(
            ResidualBlockType type,
            int inplanes,
            int planes,
            int blocks,
            int stride,
            int dilation) {
        SequentialBlock layer = new SequentialBlock();
        int expansion = type.expansion();
        Block downsample = null;
        if (stride != 1 || inplanes != planes * expansion) {
            downsample =
                    new SequentialBlock()
                            .add(conv(planes * expansion, 1, stride, 0, 1))
                            .add(batchNorm());
        }
        layer.add(type.create(planes, stride, dilation, downsample));
        for (int i = 1; i < blocks; i++) {
            layer.add(type.create(planes, 1, dilation, null));
        }
        return layer;
    }
}
