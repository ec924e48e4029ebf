package dfbmodels.io;

/**
 * How {@link TorchWeights#loadBackbone(ai.djl.nn.Block, java.nio.file.Path, BackboneOptions)}
 * initialises what the pretrained backbone does not have, and whether it freezes what it loaded.
 *
 * <pre>
 *   BackboneOptions.builder().optFreeze(true).build()
 * </pre>
 */
public final class BackboneOptions {

    private static final BackboneOptions DEFAULTS = builder().build();

    private final boolean zeroFeedbackInputs;
    private final boolean freeze;

    private BackboneOptions(Builder builder) {
        zeroFeedbackInputs = builder.zeroFeedbackInputs;
        freeze = builder.freeze;
    }

    /**
     * Returns the defaults: feedback inputs zeroed, nothing frozen.
     *
     * @return the default options
     */
    public static BackboneOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Returns a new builder, set to the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns whether the weights from the feedback's extra input channels into the pretrained
     * outputs start at zero.
     *
     * @return see {@link Builder#optZeroFeedbackInputs(boolean)}
     */
    public boolean zeroFeedbackInputs() {
        return zeroFeedbackInputs;
    }

    /**
     * Returns whether the load freezes what it copied from the file.
     *
     * @return see {@link Builder#optFreeze(boolean)}
     */
    public boolean freeze() {
        return freeze;
    }

    /** Builds {@link BackboneOptions}. */
    public static final class Builder {

        private boolean zeroFeedbackInputs = true;
        private boolean freeze;

        Builder() {}

        /**
         * Sets whether the weights that connect the feedback's extra input channels to the
         * pretrained outputs start at zero (default true): {@code layer1.0.conv1} and {@code
         * layer1.0.downsample.0} from the {@code fb·e} feedback channels, every widened {@code
         * layer4} weight from the extra planes into the pretrained planes, the ViT's {@code
         * input_proj} from the {@code fb} feedback channels. With them zero, a feedback model's
         * class path at T = 1 computes the pretrained network's activations (torchvision's {@code
         * layer4} output, the ViT encoder's output on the patch tokens) up to the state operator
         * and the norms; the feedback then enters through training (their gradient is not zero,
         * since the softmax feedback never is). With false they keep the model's own
         * initialisation.
         *
         * @param zeroFeedbackInputs false to keep the model's initialisation there
         * @return this builder
         */
        public Builder optZeroFeedbackInputs(boolean zeroFeedbackInputs) {
            this.zeroFeedbackInputs = zeroFeedbackInputs;
            return this;
        }

        /**
         * Sets whether to freeze ({@link ai.djl.nn.Parameter#freeze(boolean)}) every parameter
         * whose every value came from the file, except the classification head (default false), as
         * practitioners train on a frozen pretrained trunk. DJL's Trainer then computes no gradient
         * for them and its optimiser leaves them unchanged. Parameters copied as a slice (the
         * feedback-widened {@code layer1.0.conv1}, {@code layer1.0.downsample} and every {@code
         * layer4} tensor) stay trainable, since DJL freezes whole parameters and their new part is
         * the feedback path. BatchNorm's running statistics are not trained but updated by every
         * training-mode forward, frozen or not (as in PyTorch with {@code requires_grad_(False)}).
         * To unfreeze later, call {@code freeze(false)} on the parameters that {@link
         * LoadReport#frozen()} lists ({@code TorchNames.of(model).get(key)}), not {@code
         * model.freezeParameters(false)}, which would also unfreeze the loop's fixed GroupNorms.
         *
         * @param freeze true to freeze the loaded backbone
         * @return this builder
         */
        public Builder optFreeze(boolean freeze) {
            this.freeze = freeze;
            return this;
        }

        /**
         * Builds the options.
         *
         * @return the options
         */
        public BackboneOptions build() {
            return new BackboneOptions(this);
        }
    }
}
