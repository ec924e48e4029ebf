package dfbmodels.models;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.initializer.XavierInitializer;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.NamedSequentialBlock;
import dfbmodels.state.GeneralStateExpDecay;
import dfbmodels.state.TimeFactor;
import java.util.Arrays;

/**
 * The feedback U-Net segmenter of "Deep Recurrence for Dynamical Segmentation Models" (Calhas and
 * Oliveira, 2025; SPEC §6): the loop runs a whole U-Net at the input's full resolution.
 *
 * <ul>
 *   <li>frontend: the identity, so the body sees {@code concat_c(x, f)} and the state and feedback
 *       have the input's size (no resize);
 *   <li>body: segmentation_models_pytorch's {@code Unet} without its head: {@code encoder} (ResNet
 *       stem and {@code layer1..4}, {@code layer1} after a max-pool, taking {@code Cin + fb}
 *       channels) and {@code decoder.blocks.0..4} (channels 256, 128, 64, 32, {@code classFilters +
 *       fb}; each: nearest ×2 upsampling, skip concatenation, twice conv 3×3 → BN → ReLU; no centre
 *       block): {@code (B, Cin + fb, H, W) -> (B, classFilters + fb, H, W)}, the state;
 *   <li>state update {@code h = h + E_t(Norm_HW(y)) * (1 - t/T)^(alpha-1) / Gamma(alpha)} with
 *       {@link GeneralStateExpDecay} ({@code Q}, {@code Qinv} independent and trainable) and {@link
 *       TimeFactor#fractional(double)};
 *   <li>readout {@code segmentation_head}: conv 3×3 (pad 1, with bias) {@code classFilters ->
 *       numClasses} on the class channels: {@code (B, numClasses, H, W)} logits.
 * </ul>
 *
 * <p>Both normalisations ({@code Norm_HW}) are GroupNorms with one group per channel and frozen
 * affine: every channel of every sample normalised over its H×W pixels, so one model serves every
 * input size (the original's {@code LayerNorm((H, W))} ties a model to one size). Parameter names
 * follow segmentation_models_pytorch's {@code Unet} ({@code encoder.layer1.0.conv1.weight}, {@code
 * decoder.blocks.0.conv1.0.weight}, {@code decoder.blocks.0.conv1.1.running_mean}, {@code
 * segmentation_head.0.bias}) plus {@code error_head.{Q,Qinv,S,tau,alpha}}, {@code
 * layernorm_error.*}, {@code layernorm_input.*}.
 *
 * <p>Input height and width must be multiples of 32. Defaults are the original's: {@code fb} 2,
 * {@code classFilters} 16, {@code tau} 0.2, time exponent 1.5, {@code atol} 1e-5, ResNet34 encoder
 * (BasicBlock 3, 4, 6, 3), 3 input channels, T = 5. The feedforward twin ({@code
 * optFeedback(false)}) is the same network run for its first step only. {@code optUniformShortcut}
 * has no effect: this state operator is never re-orthogonalised.
 */
public final class UNet {

    /** The decoder's channels before the last block, which outputs the state. */
    private static final int[] DECODER_CHANNELS = {256, 128, 64, 32};

    private UNet() {}

    /**
     * Returns a new builder.
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a feedback U-Net as a {@link FeedbackBlock}. */
    public static final class Builder extends FeedbackModelBuilder<Builder> {

        private int classFilters = 16;
        private double timeExponent = 1.5;
        private ResidualBlockType blockType = ResidualBlockType.BASIC;
        private int[] layers = {3, 4, 6, 3};
        private float tau = 0.2f;

        Builder() {
            super(2);
            optAtol(1e-5f);
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the state operator's time constant (default 0.2: step {@code t} decays by {@code
         * e^(-5t)}).
         *
         * @param tau a positive number
         * @return this builder
         */
        @Override
        public Builder optTau(float tau) {
            this.tau = tau;
            return this;
        }

        /**
         * Sets the number of state channels read out by the segmentation head (default 16).
         *
         * @param classFilters a positive number
         * @return this builder
         */
        public Builder optClassFilters(int classFilters) {
            this.classFilters = classFilters;
            return this;
        }

        /**
         * Sets {@code alpha} of the time factor {@code (1 - t/T)^(alpha-1) / Gamma(alpha)} (default
         * 1.5; 1 turns the factor off). The original calls it {@code alpha}; it is not the state
         * operator's exponent of {@code |S|}, which stays 1.
         *
         * @param timeExponent a positive number
         * @return this builder
         */
        public Builder optTimeExponent(double timeExponent) {
            this.timeExponent = timeExponent;
            return this;
        }

        /**
         * Sets the encoder's residual blocks and layer counts (default BASIC, 3, 4, 6, 3:
         * ResNet34).
         *
         * @param blockType the block type
         * @param layers four positive counts
         * @return this builder
         */
        public Builder optEncoder(ResidualBlockType blockType, int... layers) {
            this.blockType = blockType;
            this.layers = layers == null ? null : layers.clone();
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public FeedbackBlock build() {
            validate();
            int state = classFilters + fbFilters;
            SequentialBlock blocks = new SequentialBlock();
            for (int i = 0; i < 5; i++) {
                blocks.add(new UNetDecoderBlock(i < 4 ? DECODER_CHANNELS[i] : state, i < 4));
            }
            NamedSequentialBlock body =
                    new NamedSequentialBlock()
                            .add("encoder", new UNetEncoder(blockType, layers))
                            .add("decoder", new NamedSequentialBlock().add("blocks", blocks));
            Conv2d head =
                    Conv2d.builder()
                            .setKernelShape(new Shape(3, 3))
                            .optPadding(new Shape(1, 1))
                            .setFilters(numClasses)
                            .build();
            // segmentation_models_pytorch's initialize_head: Xavier-uniform weight, zero bias
            head.setInitializer(
                    new XavierInitializer(
                            XavierInitializer.RandomType.UNIFORM,
                            XavierInitializer.FactorType.AVG,
                            3f),
                    ai.djl.nn.Parameter.Type.WEIGHT);
            return loop().setFrontend(Blocks.identityBlock())
                    .setBody(body)
                    .setReadout(
                            new NamedSequentialBlock()
                                    .add("segmentation_head", new SequentialBlock().add(head)))
                    .setClassChannels(classFilters)
                    .setFeedbackChannels(fbFilters)
                    .optErrorGroups(state)
                    .optFeedbackGroups(fbFilters)
                    .optStateOperator(new GeneralStateExpDecay(state, tau, 1f))
                    .optTimeFactor(TimeFactor.fractional(timeExponent))
                    .optSizeMultiple(32)
                    .build();
        }

        // iterations are checked by FeedbackBlock.Builder, tau by GeneralStateExpDecay
        private void validate() {
            validateCommon();
            if (fbFilters < 1) {
                throw new IllegalArgumentException("fbFilters must be positive, got " + fbFilters);
            }
            if (classFilters < 1) {
                throw new IllegalArgumentException(
                        "classFilters must be positive, got " + classFilters);
            }
            if (!(timeExponent > 0) || Double.isInfinite(timeExponent)) {
                throw new IllegalArgumentException(
                        "timeExponent must be positive and finite, got " + timeExponent);
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
