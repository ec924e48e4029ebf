package dfbmodels.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head self-attention with {@code torch.nn.MultiheadAttention}'s parameters, so that its
 * {@code state_dict} keys and layouts map 1:1.
 *
 * <p>On tokens {@code x} of shape {@code (B, N, E)} with {@code h} heads of width {@code d = E/h}
 * (Vaswani et al. 2017, "Attention is all you need"):
 *
 * <pre>
 *   [q; k; v] = x · in_proj_weightᵀ + in_proj_bias          in_proj_weight = [Wq; Wk; Wv], (3E, E)
 *   head_i    = dropout( softmax( q_i k_iᵀ / sqrt(d) ) ) v_i  per head, over the N keys
 *   y         = out_proj( concat_i head_i )                   (B, N, E)
 * </pre>
 *
 * <p>Parameters: {@code in_proj_weight} {@code (3E, E)}, {@code in_proj_bias} {@code (3E)}, {@code
 * out_proj.weight} {@code (E, E)}, {@code out_proj.bias} {@code (E)}, initialised like PyTorch
 * (Xavier-uniform {@code in_proj_weight}, zero biases, {@code out_proj.weight} uniform in {@code
 * ±1/sqrt(E)}). Self-attention only, without masks: what a Vision Transformer's encoder needs.
 * DJL's {@link ai.djl.nn.transformer.ScaledDotProductAttentionBlock} computes the same function but
 * keeps four separate projections, so torchvision's packed weights would not load into it as they
 * are.
 */
public class MultiheadAttention extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int embedDim;
    private final int numHeads;
    private final float dropout;
    private final Parameter inProjWeight;
    private final Parameter inProjBias;
    private final Linear outProj;

    MultiheadAttention(Builder builder) {
        super(VERSION);
        embedDim = builder.embedDim;
        numHeads = builder.numHeads;
        dropout = builder.dropout;
        inProjWeight =
                addParameter(
                        Parameter.builder()
                                .setName("in_proj_weight")
                                .setType(Parameter.Type.WEIGHT)
                                .optInitializer(
                                        new XavierInitializer(
                                                XavierInitializer.RandomType.UNIFORM,
                                                XavierInitializer.FactorType.AVG,
                                                3f))
                                .build());
        inProjBias =
                addParameter(
                        Parameter.builder()
                                .setName("in_proj_bias")
                                .setType(Parameter.Type.BIAS)
                                .build());
        outProj = addChildBlock("out_proj", Linear.builder().setUnits(embedDim).build());
        // nn.Linear's default: kaiming_uniform(a = sqrt(5)), i.e. uniform in ±1/sqrt(fan_in)
        outProj.setInitializer(
                new XavierInitializer(
                        XavierInitializer.RandomType.UNIFORM, XavierInitializer.FactorType.IN, 1f),
                Parameter.Type.WEIGHT);
    }

    /**
     * Returns a new builder.
     *
     * @return a new builder; {@code setEmbedDim} and {@code setNumHeads} are required
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the token width {@code E}.
     *
     * @return the embedding dimension
     */
    public int getEmbedDim() {
        return embedDim;
    }

    /**
     * Returns the number of heads {@code h}.
     *
     * @return the number of heads
     */
    public int getNumHeads() {
        return numHeads;
    }

    /** {@inheritDoc} */
    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        super.beforeInitialize(inputShapes);
        checkInput(inputShapes[0]);
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Shape[] inputShapes) {
        inProjWeight.setShape(new Shape(3L * embedDim, embedDim));
        inProjBias.setShape(new Shape(3L * embedDim));
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        outProj.initialize(manager, dataType, inputShapes[0]);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        checkInput(inputShapes[0]);
        return new Shape[] {inputShapes[0]};
    }

    private void checkInput(Shape input) {
        if (input.dimension() != 3 || input.get(2) != embedDim) {
            throw new IllegalArgumentException(
                    "attention input must have shape (B, N, " + embedDim + "), got " + input);
        }
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        checkInput(x.getShape());
        long b = x.getShape().get(0);
        long n = x.getShape().get(1);
        NDArray w = ps.getValue(inProjWeight, x.getDevice(), training);
        NDArray bias = ps.getValue(inProjBias, x.getDevice(), training);
        // (B, N, 3E) -> (3, B, h, N, d)
        NDArray qkv =
                Linear.linear(x, w, bias)
                        .head()
                        .reshape(b, n, 3, numHeads, embedDim / numHeads)
                        .transpose(2, 0, 3, 1, 4);
        NDArray q = qkv.get(0).div(scalar(x, Math.sqrt((double) embedDim / numHeads)));
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        NDArray attention = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1);
        if (dropout > 0) {
            attention = Dropout.dropout(attention, dropout, training).head();
        }
        NDArray heads = attention.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, embedDim);
        return outProj.forward(ps, new NDList(heads), training);
    }

    /**
     * A scalar in {@code like}'s manager, data type and device, in memory LibTorch owns. DJL turns
     * a {@code Number} operand ({@code div(Number)}, {@code create(double)}) into a tensor over a
     * Java buffer that autograd saves without owning: once the array is closed, the garbage
     * collector may free the buffer before backward, which then reads garbage (intermittent NaN
     * gradients).
     */
    private static NDArray scalar(NDArray like, double value) {
        // toType(..., true) does not copy when the type already fits; duplicate() always does
        try (NDArray host = like.getManager().create(value);
                NDArray typed = host.toType(like.getDataType(), false)) {
            return typed.duplicate().toDevice(like.getDevice(), false);
        }
    }

    /** Builds a {@link MultiheadAttention}. */
    public static final class Builder {

        private int embedDim = -1;
        private int numHeads = -1;
        private float dropout;

        Builder() {}

        /**
         * Sets the token width {@code E} (required).
         *
         * @param embedDim a positive number, divisible by the number of heads
         * @return this builder
         */
        public Builder setEmbedDim(int embedDim) {
            this.embedDim = embedDim;
            return this;
        }

        /**
         * Sets the number of heads {@code h} (required).
         *
         * @param numHeads a positive divisor of the token width
         * @return this builder
         */
        public Builder setNumHeads(int numHeads) {
            this.numHeads = numHeads;
            return this;
        }

        /**
         * Sets the dropout rate on the attention weights, in training only (default 0).
         *
         * @param dropout a rate in {@code [0, 1)}
         * @return this builder
         */
        public Builder optDropout(float dropout) {
            this.dropout = dropout;
            return this;
        }

        /**
         * Builds the block.
         *
         * @return a new {@link MultiheadAttention}
         * @throws IllegalArgumentException if the width is not a positive multiple of the number of
         *     heads, or the dropout rate is outside {@code [0, 1)}; the message names the values
         *     and what would be valid
         */
        public MultiheadAttention build() {
            checkHeads("embedDim", embedDim, "numHeads", numHeads);
            checkRate("dropout", dropout);
            return new MultiheadAttention(this);
        }
    }

    /**
     * Checks that a width can be split into heads.
     *
     * @param widthName the name of the width setting, for the message
     * @param width the width
     * @param headsName the name of the heads setting, for the message
     * @param heads the number of heads
     * @throws IllegalArgumentException if {@code width} is not a positive multiple of a positive
     *     {@code heads}; the message lists the valid head counts
     */
    public static void checkHeads(String widthName, int width, String headsName, int heads) {
        if (width < 1) {
            throw new IllegalArgumentException(widthName + " must be positive, got " + width);
        }
        if (heads < 1 || width % heads != 0) {
            List<Integer> valid = new ArrayList<>();
            for (int i = 1; i <= width; i++) {
                if (width % i == 0) {
                    valid.add(i);
                }
            }
            throw new IllegalArgumentException(
                    widthName
                            + "="
                            + width
                            + " must be divisible by "
                            + headsName
                            + "="
                            + heads
                            + " (every head gets "
                            + widthName
                            + "/"
                            + headsName
                            + " channels); valid "
                            + headsName
                            + " for "
                            + widthName
                            + "="
                            + width
                            + ": "
                            + valid.toString().replaceAll("[\\[\\]]", ""));
        }
    }

    /**
     * Checks a dropout rate.
     *
     * @param name the setting's name, for the message
     * @param rate the rate
     * @throws IllegalArgumentException if {@code rate} is not in {@code [0, 1)}
     */
    public static void checkRate(String name, float rate) {
        if (!(rate >= 0f && rate < 1f)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + rate);
        }
    }
}
