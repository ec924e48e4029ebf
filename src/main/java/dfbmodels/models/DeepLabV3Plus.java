package dfbmodels.models;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.initializer.XavierInitializer;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.Interpolation;
import dfbmodels.nn.NamedSequentialBlock;
import java.util.Arrays;

/**
 * The feedback DeepLabV3+ segmenter (SPEC §4), output stride 16.
 *
 * <ul>
 *   <li>frontend {@code encoder.conv1} 7×7/2, {@code encoder.bn1}, ReLU: {@code (B, Cin, H, W) ->
 *       (B, 64, H/2, W/2)};
 *   <li>body: max-pool 3/2, {@code encoder.layer1..4} ({@code layer1} takes {@code 64 + fb}
 *       channels, {@code layer4} stride 1 and dilation 2), DeepLabV3+ {@code decoder}: {@code ->
 *       (B, classFilters + fb, H/4, W/4)}, the state;
 *   <li>readout {@code segmentation_head}: 1×1 conv (classFilters → numClasses, with bias) on the
 *       class channels, ×4 bilinear upsampling (align_corners=True): {@code -> (B, numClasses, H,
 *       W)} logits.
 * </ul>
 *
 * <p>Both GroupNorms have one group per channel. Parameter names follow segmentation_models_pytorch
 * ({@code encoder.layer1.0.conv1.weight}, {@code decoder.aspp.0.convs.1.0.0.weight}, {@code
 * segmentation_head.0.bias}, ...). Input height and width must be multiples of 16.
 */
public final class DeepLabV3Plus {

    private DeepLabV3Plus() {}

    /**
     * Returns a new builder.
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a feedback DeepLabV3+ as a {@link FeedbackBlock}. */
    public static final class Builder extends FeedbackModelBuilder<Builder> {

        private int classFilters = 256;
        private ResidualBlockType blockType = ResidualBlockType.BASIC;
        private int[] layers = {2, 2, 2, 2};

        Builder() {
            super(2);
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the number of state channels read out by the head (default 256).
         *
         * @param classFilters a positive number
         * @return this builder
         */
        public Builder optClassFilters(int classFilters) {
            this.classFilters = classFilters;
            return this;
        }

        /**
         * Sets the encoder's residual blocks and layer counts (default BASIC, 2, 2, 2, 2).
         *
         * @param blockType the block type
         * @param layers four positive counts
         * @return this builder
         */
        public Builder optEncoder(ResidualBlockType blockType, int... layers) {
            this.blockType = blockType;
            this.layers = layers.clone();
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public FeedbackBlock build() {
            validate();
            int e = blockType.expansion();
            NamedSequentialBlock frontend =
                    new NamedSequentialBlock().add("encoder", Layers.stem());
            NamedSequentialBlock encoder =
                    Layers.resnetLayers(blockType, 64 + fbFilters, 512, layers, true);
            int out = classFilters + fbFilters;
            DeepLabBody body = new DeepLabBody(encoder, new DeepLabV3PlusDecoder(512 * e, out));
            Conv2d head =
                    Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(numClasses).build();
            head.setInitializer(
                    new XavierInitializer(
                            XavierInitializer.RandomType.UNIFORM,
                            XavierInitializer.FactorType.AVG,
                            3f),
                    ai.djl.nn.Parameter.Type.WEIGHT);
            SequentialBlock segmentationHead =
                    new SequentialBlock()
                            .add(head)
                            .add(
                                    new LambdaBlock(
                                            list -> {
                                                Shape s = list.head().getShape();
                                                return new NDList(
                                                        Interpolation.bilinear(
                                                                list.head(),
                                                                s.get(2) * 4,
                                                                s.get(3) * 4,
                                                                true));
                                            },
                                            "UpsamplingBilinear2d"));
            return loop().setFrontend(frontend)
                    .setBody(body)
                    .setReadout(
                            new NamedSequentialBlock().add("segmentation_head", segmentationHead))
                    .setClassChannels(classFilters)
                    .setFeedbackChannels(fbFilters)
                    .optErrorGroups(out)
                    .optFeedbackGroups(fbFilters)
                    .optSizeMultiple(16)
                    .build();
        }

        // iterations and tau are checked by FeedbackBlock.Builder and StateExpDecay
        private void validate() {
            validateCommon();
            if (fbFilters < 1) {
                throw new IllegalArgumentException("fbFilters must be positive, got " + fbFilters);
            }
            if (classFilters < 1) {
                throw new IllegalArgumentException(
                        "classFilters must be positive, got " + classFilters);
            }
            if (blockType == null
                    || layers == null
                    || layers.length != 4
                    || Arrays.stream(layers).anyMatch(n -> n < 1)) {
                throw new IllegalArgumentException(
                        "the encoder needs a block type and four positive block counts, got "
                                + blockType
                                + " "
                                + Arrays.toString(layers));
            }
        }
    }
}
