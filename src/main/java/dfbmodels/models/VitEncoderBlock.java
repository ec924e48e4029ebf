package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dfbmodels.nn.MultiheadAttention;

/**
 * torchvision's {@code EncoderBlock}, pre-norm: {@code x = x + dropout(self_attention(ln_1(x)))},
 * then {@code x + mlp(ln_2(x))}; {@code (B, N, D) -> (B, N, D)}.
 *
 * <p>Children and names as torchvision 0.14: {@code ln_1}, {@code self_attention}, {@code dropout},
 * {@code ln_2}, {@code mlp} ({@code 0} Linear {@code D -> mlpDim}, {@code 1} GELU (exact, erf),
 * {@code 2} Dropout, {@code 3} Linear {@code mlpDim -> D}, {@code 4} Dropout). LayerNorm eps is
 * 1e-6.
 */
final class VitEncoderBlock extends AbstractBlock {

    /** torchvision's {@code partial(nn.LayerNorm, eps=1e-6)}. */
    static final float LN_EPS = 1e-6f;

    private final LayerNorm ln1;
    private final MultiheadAttention selfAttention;
    private final Dropout dropout;
    private final LayerNorm ln2;
    private final SequentialBlock mlp;

    VitEncoderBlock(
            int hiddenDim, int numHeads, int mlpDim, float dropout, float attentionDropout) {
        super((byte) 1);
        ln1 = addChildBlock("ln_1", tokenNorm());
        selfAttention =
                addChildBlock(
                        "self_attention",
                        MultiheadAttention.builder()
                                .setEmbedDim(hiddenDim)
                                .setNumHeads(numHeads)
                                .optDropout(attentionDropout)
                                .build());
        this.dropout = addChildBlock("dropout", Dropout.builder().optRate(dropout).build());
        ln2 = addChildBlock("ln_2", tokenNorm());
        mlp =
                addChildBlock(
                        "mlp",
                        new SequentialBlock()
                                .add(mlpLinear(mlpDim))
                                .add(Activation.geluBlock())
                                .add(Dropout.builder().optRate(dropout).build())
                                .add(mlpLinear(hiddenDim))
                                .add(Dropout.builder().optRate(dropout).build()));
    }

    /** A LayerNorm over the last axis of {@code (B, N, D)} tokens, eps 1e-6. */
    static LayerNorm tokenNorm() {
        return LayerNorm.builder().axis(2).optEpsilon(LN_EPS).build();
    }

    /** torchvision's {@code MLPBlock} initialisation: Xavier-uniform weight, bias N(0, 1e-6). */
    private static Linear mlpLinear(int units) {
        Linear linear = Linear.builder().setUnits(units).build();
        linear.setInitializer(xavierUniform(), Parameter.Type.WEIGHT);
        linear.setInitializer(new NormalInitializer(1e-6f), Parameter.Type.BIAS);
        return linear;
    }

    /** {@code torch.nn.init.xavier_uniform_}: uniform in {@code ±sqrt(6 / (fan_in + fan_out))}. */
    static XavierInitializer xavierUniform() {
        return new XavierInitializer(
                XavierInitializer.RandomType.UNIFORM, XavierInitializer.FactorType.AVG, 3f);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray input = inputs.singletonOrThrow();
        NDList a = selfAttention.forward(ps, ln1.forward(ps, inputs, training), training);
        NDArray x = dropout.forward(ps, a, training).head().add(input);
        NDList y = mlp.forward(ps, ln2.forward(ps, new NDList(x), training), training);
        return new NDList(x.add(y.head()));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return selfAttention.getOutputShapes(inputShapes);
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        ln1.initialize(manager, dataType, inputs);
        selfAttention.initialize(manager, dataType, inputs);
        dropout.initialize(manager, dataType, inputs);
        ln2.initialize(manager, dataType, inputs);
        mlp.initialize(manager, dataType, inputs);
    }
}
