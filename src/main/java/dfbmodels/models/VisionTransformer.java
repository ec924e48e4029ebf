package dfbmodels.models;

import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.MultiheadAttention;
import dfbmodels.nn.NamedSequentialBlock;
import java.util.ArrayList;
import java.util.List;

/**
 * The feedback Vision Transformer (SPEC §7; Dosovitskiy et al. 2021, "An image is worth 16x16
 * words"), the port's own model: a ViT encoder inside the loop of {@link FeedbackBlock}.
 *
 * <ul>
 *   <li>frontend: {@code conv_proj}, a {@code p×p} convolution of stride {@code p} ({@code Cin ->
 *       D}), plus {@code pos_embedding} on the patch grid: {@code (B, Cin, H, W) -> (B, D, H/p,
 *       W/p)};
 *   <li>body, per token of the grid: {@code input_proj} ({@code D + fb -> D}), {@code encoder} (L
 *       pre-norm blocks and a final LayerNorm, torchvision's), {@code state_proj} ({@code D ->
 *       classFilters + fb}): {@code -> (B, classFilters + fb, H/p, W/p)}, the state;
 *   <li>readout: mean over the tokens of the class channels, {@code fc_norm} (LayerNorm), {@code
 *       head} (linear): {@code -> (B, numClasses)} logits.
 * </ul>
 *
 * <p>The state op, both GroupNorms (8 groups by default) and early stop are the loop's, as for
 * every model; the feedback needs no resize (same grid). Parameter names: the encoder's are
 * torchvision 0.14's ({@code encoder.layers.encoder_layer_0.ln_1.weight}, {@code
 * .self_attention.in_proj_weight} = {@code [Wq; Wk; Wv]}, {@code .self_attention.out_proj.bias},
 * {@code .mlp.0.weight}, {@code .mlp.3.bias}, {@code encoder.ln.weight}; LayerNorm eps 1e-6, exact
 * erf GELU); {@code conv_proj.*} as torchvision; {@code pos_embedding} {@code (1, N, D)} is
 * torchvision's {@code encoder.pos_embedding} without the class token's row (there is no class
 * token); {@code input_proj.*}, {@code state_proj.*}, {@code fc_norm.*}, {@code head.*} have no
 * torchvision counterpart. The encoder alone is {@link #encoder(FeedbackBlock)}.
 *
 * <pre>
 *   FeedbackBlock vit = VisionTransformer.tiny()
 *           .setNumClasses(10)
 *           .optImageSize(32)
 *           .optPatchSize(VisionTransformer.SMALL_IMAGE_PATCH_SIZE)
 *           .build();
 * </pre>
 *
 * <p>Inputs: height and width multiples of the patch size; other sizes than the configured image
 * size work (the position embedding is resized).
 */
public final class VisionTransformer {

    /** The presets' patch size at 224×224, as torchvision's {@code vit_*_16}. */
    public static final int PATCH_SIZE = 16;

    /** The patch size for small images, e.g. 32×32 (CIFAR) or 28×28 (MNIST): an 8×8 or 7×7 grid. */
    public static final int SMALL_IMAGE_PATCH_SIZE = 4;

    private VisionTransformer() {}

    /**
     * Returns a new builder with the tiny preset's sizes (the defaults).
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * ViT-Tiny: D 192, 12 layers, 3 heads, MLP 768, 224×224 images in 16×16 patches.
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder tiny() {
        return builder().sizes(12, 192, 3, 768);
    }

    /**
     * ViT-Small: D 384, 12 layers, 6 heads, MLP 1536, 224×224 images in 16×16 patches.
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder small() {
        return builder().sizes(12, 384, 6, 1536);
    }

    /**
     * ViT-Base (torchvision's {@code vit_b_16}): D 768, 12 layers, 12 heads, MLP 3072, 224×224
     * images in 16×16 patches.
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder base() {
        return builder().sizes(12, 768, 12, 3072);
    }

    /**
     * Returns the encoder of a Vision Transformer: its L blocks and final LayerNorm, {@code (B, N,
     * D) -> (B, N, D)}, a block of the model (not a copy), to check, freeze ({@code
     * freezeParameters(true)}) or reuse on its own. Its parameters are named as torchvision's
     * {@code encoder} module's children ({@code layers.encoder_layer_0.ln_1.weight}, ..., {@code
     * ln.bias}).
     *
     * @param model a model built by this class's builder
     * @return the encoder
     * @throws IllegalArgumentException if {@code model} is not a Vision Transformer
     */
    public static Block encoder(FeedbackBlock model) {
        if (!(model.getBody() instanceof VitBody)) {
            throw new IllegalArgumentException(
                    "model is not a VisionTransformer (its body is a "
                            + model.getBody().getClass().getSimpleName()
                            + "); build it with VisionTransformer.builder()");
        }
        return ((VitBody) model.getBody()).getEncoder();
    }

    /** Builds a feedback Vision Transformer as a {@link FeedbackBlock}. */
    public static final class Builder extends FeedbackModelBuilder<Builder> {

        private int imageSize = 224;
        private int patchSize = PATCH_SIZE;
        private int numLayers = 12;
        private int hiddenDim = 192;
        private int numHeads = 3;
        private int mlpDim = 768;
        private float dropout;
        private float attentionDropout;
        private int classFilters = -1;
        private int normGroups = 8;

        Builder() {
            super(8);
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        private Builder sizes(int layers, int hidden, int heads, int mlp) {
            numLayers = layers;
            hiddenDim = hidden;
            numHeads = heads;
            mlpDim = mlp;
            return this;
        }

        /**
         * Sets the image size {@code S} the position embedding is made for, {@code (S/p)²} tokens
         * (default 224). Inputs of other sizes work, with a resized position embedding.
         *
         * @param imageSize a positive multiple of the patch size
         * @return this builder
         */
        public Builder optImageSize(int imageSize) {
            this.imageSize = imageSize;
            return this;
        }

        /**
         * Sets the patch size {@code p} (default {@link #PATCH_SIZE} 16; {@link
         * #SMALL_IMAGE_PATCH_SIZE} 4 for 32×32 images).
         *
         * @param patchSize a positive divisor of the image size
         * @return this builder
         */
        public Builder optPatchSize(int patchSize) {
            this.patchSize = patchSize;
            return this;
        }

        /**
         * Sets the number of encoder blocks L (torchvision's {@code num_layers}; default 12).
         *
         * @param numLayers a positive number
         * @return this builder
         */
        public Builder optNumLayers(int numLayers) {
            this.numLayers = numLayers;
            return this;
        }

        /**
         * Sets the token width D (torchvision's {@code hidden_dim}; default 192). The MLP width is
         * not changed: set it with {@link #optMlpDim(int)} (usually 4·D).
         *
         * @param hiddenDim a positive multiple of the number of heads
         * @return this builder
         */
        public Builder optHiddenDim(int hiddenDim) {
            this.hiddenDim = hiddenDim;
            return this;
        }

        /**
         * Sets the number of attention heads (torchvision's {@code num_heads}; default 3).
         *
         * @param numHeads a positive divisor of the token width
         * @return this builder
         */
        public Builder optNumHeads(int numHeads) {
            this.numHeads = numHeads;
            return this;
        }

        /**
         * Sets the hidden width of the encoder blocks' MLP (torchvision's {@code mlp_dim}; default
         * 768 = 4·192).
         *
         * @param mlpDim a positive number
         * @return this builder
         */
        public Builder optMlpDim(int mlpDim) {
            this.mlpDim = mlpDim;
            return this;
        }

        /**
         * Sets the dropout rate of the encoder (torchvision's {@code dropout}: on the encoder's
         * input, after attention and in the MLP; default 0), applied in training only.
         *
         * @param dropout a rate in {@code [0, 1)}
         * @return this builder
         */
        public Builder optDropout(float dropout) {
            this.dropout = dropout;
            return this;
        }

        /**
         * Sets the dropout rate on the attention weights (torchvision's {@code attention_dropout};
         * default 0), applied in training only.
         *
         * @param attentionDropout a rate in {@code [0, 1)}
         * @return this builder
         */
        public Builder optAttentionDropout(float attentionDropout) {
            this.attentionDropout = attentionDropout;
            return this;
        }

        /**
         * Sets the number of state channels read out (default: the token width D).
         *
         * @param classFilters a positive number
         * @return this builder
         */
        public Builder optClassFilters(int classFilters) {
            this.classFilters = classFilters;
            return this;
        }

        /**
         * Sets the number of groups of both GroupNorms (default 8).
         *
         * @param normGroups a positive number dividing {@code fbFilters} and {@code classFilters +
         *     fbFilters}
         * @return this builder
         */
        public Builder optNormGroups(int normGroups) {
            this.normGroups = normGroups;
            return this;
        }

        /** {@inheritDoc} */
        @Override
        public FeedbackBlock build() {
            validate();
            int classes = classFilters();
            NamedSequentialBlock layers = new NamedSequentialBlock();
            for (int i = 0; i < numLayers; i++) {
                layers.add(
                        "encoder_layer_" + i,
                        new VitEncoderBlock(
                                hiddenDim, numHeads, mlpDim, dropout, attentionDropout));
            }
            NamedSequentialBlock encoder =
                    new NamedSequentialBlock()
                            .add("dropout", Dropout.builder().optRate(dropout).build())
                            .add("layers", layers)
                            .add("ln", VitEncoderBlock.tokenNorm());
            Linear head = Linear.builder().setUnits(numClasses).build();
            head.setInitializer(VitEncoderBlock.xavierUniform(), Parameter.Type.WEIGHT);
            NamedSequentialBlock readout =
                    new NamedSequentialBlock()
                            .add("avgpool", Pool.globalAvgPool2dBlock())
                            .add("flatten", Blocks.batchFlattenBlock())
                            .add(
                                    "fc_norm",
                                    LayerNorm.builder()
                                            .axis(1)
                                            .optEpsilon(VitEncoderBlock.LN_EPS)
                                            .build())
                            .add("head", head);
            return loop().setFrontend(new PatchEmbedding(hiddenDim, patchSize, imageSize))
                    .setBody(new VitBody(hiddenDim, encoder, classes + fbFilters))
                    .setReadout(readout)
                    .setClassChannels(classes)
                    .setFeedbackChannels(fbFilters)
                    .optErrorGroups(normGroups)
                    .optFeedbackGroups(normGroups)
                    .optSizeMultiple(patchSize)
                    .build();
        }

        private int classFilters() {
            return classFilters > 0 ? classFilters : hiddenDim;
        }

        // iterations and tau are checked by FeedbackBlock.Builder and StateExpDecay
        private void validate() {
            validateCommon();
            positive("numLayers", numLayers);
            positive("mlpDim", mlpDim);
            positive("normGroups", normGroups);
            positive("fbFilters", fbFilters);
            if (classFilters != -1) {
                positive("classFilters", classFilters);
            }
            MultiheadAttention.checkHeads("hiddenDim", hiddenDim, "numHeads", numHeads);
            positive("patchSize", patchSize);
            if (imageSize < patchSize || imageSize % patchSize != 0) {
                int below = imageSize / patchSize * patchSize;
                throw new IllegalArgumentException(
                        "imageSize="
                                + imageSize
                                + " must be a positive multiple of patchSize="
                                + patchSize
                                + " (the patch grid is imageSize/patchSize); valid imageSize"
                                + " near it: "
                                + (below > 0 ? below + ", " : "")
                                + (below + patchSize));
            }
            MultiheadAttention.checkRate("dropout", dropout);
            MultiheadAttention.checkRate("attentionDropout", attentionDropout);
            int classes = classFilters();
            if (!fbWorks(fbFilters, classes)) {
                throw new IllegalArgumentException(
                        "VisionTransformer cannot use fbFilters="
                                + fbFilters
                                + " with normGroups="
                                + normGroups
                                + " and classFilters="
                                + classes
                                + ": the feedback GroupNorm needs fbFilters and the state"
                                + " GroupNorm needs classFilters + fbFilters to be multiples of "
                                + normGroups
                                + ". Valid fbFilters: "
                                + validFbFilters(classes));
            }
        }

        private boolean fbWorks(int fb, int classes) {
            return fb % normGroups == 0 && (classes + fb) % normGroups == 0;
        }

        private String validFbFilters(int classes) {
            List<Integer> valid = new ArrayList<>();
            for (int fb = 1; valid.size() < 4 && fb <= 4 * normGroups; fb++) {
                if (fbWorks(fb, classes)) {
                    valid.add(fb);
                }
            }
            if (valid.isEmpty()) {
                return "none, since classFilters="
                        + classes
                        + " is not a multiple of "
                        + normGroups
                        + "; choose classFilters or normGroups so that it is";
            }
            return valid.toString().replaceAll("[\\[\\]]", "") + ", ...";
        }

        private static void positive(String name, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
        }
    }
}
