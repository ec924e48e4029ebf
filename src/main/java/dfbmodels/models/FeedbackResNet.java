package dfbmodels.models;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Blocks;
import ai.djl.nn.pooling.Pool;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.NamedSequentialBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Feedback ResNet classifiers (SPEC §3): torchvision's ResNet with a feedback loop around {@code
 * layer1..layer4}.
 *
 * <ul>
 *   <li>frontend, the stem ({@link Builder#optStem(ResNetStem)}): by default torchvision's {@code
 *       conv1} 7×7/2, {@code bn1}, ReLU, max-pool 3/2: {@code (B, Cin, H, W) -> (B, w, H/4, W/4)};
 *       with {@link ResNetStem#CIFAR} {@code conv1} 3×3/1, {@code bn1}, ReLU: {@code -> (B, w, H,
 *       W)};
 *   <li>body: {@code layer1..layer4} of widths {@code w, 2w, 4w, 8w + fb}, {@code layer1} taking
 *       {@code w + fb·e} channels: {@code -> (B, (8w + fb)·e, H/32, W/32)}, or {@code H/8 × W/8}
 *       with the CIFAR stem (sizes rounded up: a 28×28 input gives a 1×1 state with the default
 *       stem, 4×4 with the CIFAR stem; see {@link ResNetStem});
 *   <li>readout: global average pool, flatten, {@code fc}: {@code (B, 8w·e, Hs, Ws) -> (B,
 *       numClasses)}.
 * </ul>
 *
 * <p>{@code e} is the block expansion (1 basic, 4 bottleneck), {@code w} the base width ({@link
 * Builder#optWidth(int)}, default torchvision's 64: {@code 8w = 512}). The state has {@code (8w +
 * fb)·e} channels, the first {@code 8w·e} read out and the last {@code fb·e} fed back. Parameter
 * names are torchvision's ({@code conv1.weight}, {@code layer1.0.bn1.running_mean}, {@code
 * fc.bias}, ...) plus {@code error_head.*}, {@code layernorm_error.*}, {@code layernorm_input.*}.
 */
public final class FeedbackResNet {

    private FeedbackResNet() {}

    /**
     * Returns a builder for any block type and layer counts.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a feedback ResNet as a {@link FeedbackBlock}. */
    public static final class Builder extends FeedbackModelBuilder<Builder> {

        private String name = "FeedbackResNet";
        private ResidualBlockType blockType;
        private int[] layers;
        private int normGroups = 8;
        private ResNetStem stem = ResNetStem.IMAGENET;
        private int width = 64;

        Builder() {
            super(8);
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        Builder named(String name) {
            this.name = name;
            return this;
        }

        /**
         * Sets the residual block type (required).
         *
         * @param blockType {@link ResidualBlockType#BASIC} or {@link ResidualBlockType#BOTTLENECK}
         * @return this builder
         */
        public Builder setBlockType(ResidualBlockType blockType) {
            this.blockType = blockType;
            return this;
        }

        /**
         * Sets the number of blocks in {@code layer1..layer4} (required), e.g. {@code 2, 2, 2, 2}.
         *
         * @param layers four positive counts
         * @return this builder
         */
        public Builder setLayers(int... layers) {
            this.layers = layers.clone();
            return this;
        }

        /**
         * Sets the number of groups of both GroupNorms (default 8).
         *
         * @param normGroups a positive number
         * @return this builder
         */
        public Builder optNormGroups(int normGroups) {
            this.normGroups = normGroups;
            return this;
        }

        /**
         * Sets the stem (default {@link ResNetStem#IMAGENET}: torchvision's). {@link
         * ResNetStem#CIFAR} (3×3 stride-1 {@code conv1}, no max-pool) is for 28–64 px inputs: a
         * 28×28 or 32×32 input then gives a 4×4 state instead of 1×1, so the feedback is a spatial
         * map rather than one vector per image, at about 14 times the compute per step (ResNet18 at
         * 28×28). Only the feedback ResNets have this option; {@link DeepLabV3Plus} keeps
         * torchvision's stem.
         *
         * @param stem the stem
         * @return this builder
         */
        public Builder optStem(ResNetStem stem) {
            this.stem = stem;
            return this;
        }

        /**
         * Sets the network's base width {@code w} (default 64: torchvision's widths, parameter
         * names and shapes, so torchvision and the original's weights load): the stem and {@code
         * layer1} have {@code w} planes, {@code layer2} {@code 2w}, {@code layer3} {@code 4w},
         * {@code layer4} {@code 8w + fb}; the state has {@code (8w + fb)·e} channels, {@code 8w·e}
         * of them read out. This is the width of the CIFAR ResNets of He et al. 2016, §4.2 (16, 32,
         * 64 there, with three stages) and the "widening factor" axis of Zagoruyko and Komodakis
         * 2016 (Wide ResNets), not torchvision's {@code width_per_group} (the inner width of a
         * bottleneck, fixed at 64 here). Parameter names do not change, shapes do: a model of
         * another width loads no torchvision weights.
         *
         * <p>A convolution's multiply-adds scale with the square of its width, so {@code w = 16}
         * makes a step about {@code (64/16)² = 16} times cheaper in the layers (less in practice:
         * narrow convolutions use the CPU less well; see docs/performance.md). With {@link
         * ResNetStem#CIFAR} it is the usual way to make a feedback ResNet affordable at 28–32 px.
         *
         * @param width a positive number, e.g. 16, 32 or 64; {@code fbFilters} is then checked
         *     against {@code (8w + fb)·e}
         * @return this builder
         */
        public Builder optWidth(int width) {
            this.width = width;
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public FeedbackBlock build() {
            validate();
            int e = blockType.expansion();
            NamedSequentialBlock frontend;
            if (stem == ResNetStem.CIFAR) {
                frontend = Layers.cifarStem(width);
            } else {
                frontend =
                        Layers.stem(width)
                                .add(
                                        "maxpool",
                                        Pool.maxPool2dBlock(
                                                new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
            }
            NamedSequentialBlock body =
                    Layers.resnetLayers(
                            blockType,
                            width,
                            width + fbFilters * e,
                            8 * width + fbFilters,
                            layers,
                            false);
            NamedSequentialBlock readout =
                    new NamedSequentialBlock()
                            .add("avgpool", Pool.globalAvgPool2dBlock())
                            .add("flatten", Blocks.batchFlattenBlock())
                            .add("fc", Layers.linear(numClasses));
            return loop().setFrontend(frontend)
                    .setBody(body)
                    .setReadout(readout)
                    .setClassChannels(8 * width * e)
                    .setFeedbackChannels(fbFilters * e)
                    .optErrorGroups(normGroups)
                    .optFeedbackGroups(normGroups)
                    .build();
        }

        // iterations and tau are checked by FeedbackBlock.Builder and StateExpDecay
        private void validate() {
            if (blockType == null) {
                throw new IllegalArgumentException("blockType must be set (BASIC or BOTTLENECK)");
            }
            if (layers == null
                    || layers.length != 4
                    || Arrays.stream(layers).anyMatch(n -> n < 1)) {
                throw new IllegalArgumentException(
                        "layers must be four positive block counts, e.g. 2, 2, 2, 2; got "
                                + Arrays.toString(layers));
            }
            validateCommon();
            if (stem == null) {
                throw new IllegalArgumentException("stem must be IMAGENET or CIFAR, got null");
            }
            if (normGroups < 1) {
                throw new IllegalArgumentException(
                        "normGroups must be positive, got " + normGroups);
            }
            if (width < 1) {
                throw new IllegalArgumentException(
                        name + " width must be positive (64: torchvision's), got " + width);
            }
            if (fbFilters < 1 || !fbWorks(fbFilters)) {
                int e = blockType.expansion();
                throw new IllegalArgumentException(
                        name
                                + " ("
                                + blockType
                                + " blocks, expansion "
                                + e
                                + ") cannot use fbFilters="
                                + fbFilters
                                + " with normGroups="
                                + normGroups
                                + ": the feedback GroupNorm needs fbFilters*"
                                + e
                                + " and the state GroupNorm needs ("
                                + 8 * width
                                + " + fbFilters)*"
                                + e
                                + " to be positive multiples of "
                                + normGroups
                                + ". Valid fbFilters: "
                                + validFbFilters());
            }
        }

        private boolean fbWorks(int fb) {
            int e = blockType.expansion();
            return (fb * e) % normGroups == 0 && ((8 * width + fb) * e) % normGroups == 0;
        }

        private String validFbFilters() {
            List<Integer> valid = new ArrayList<>();
            for (int fb = 1; valid.size() < 4 && fb <= 8 * width * normGroups; fb++) {
                if (fbWorks(fb)) {
                    valid.add(fb);
                }
            }
            if (valid.isEmpty()) {
                return "none, since "
                        + 8 * width
                        + "*"
                        + blockType.expansion()
                        + " is not a multiple of "
                        + normGroups
                        + "; choose normGroups dividing it (e.g. 8)";
            }
            return valid.toString().replaceAll("[\\[\\]]", "") + ", ...";
        }
    }
}
