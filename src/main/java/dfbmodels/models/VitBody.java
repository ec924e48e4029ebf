package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The Vision Transformer's body (SPEC §7): the grid's tokens {@code (B, D + fb, h, w) -> (B, N, D +
 * fb)}, {@code input_proj} ({@code D + fb -> D}), {@code encoder} (the L blocks and the final
 * LayerNorm), {@code state_proj} ({@code D -> classFilters + fb}), back to the grid: {@code (B,
 * classFilters + fb, h, w)}.
 */
final class VitBody extends AbstractBlock {

    private final Linear inputProj;
    private final Block encoder;
    private final Linear stateProj;

    VitBody(int hiddenDim, Block encoder, int stateChannels) {
        super((byte) 1);
        inputProj = addChildBlock("input_proj", linear(hiddenDim));
        this.encoder = addChildBlock("encoder", encoder);
        stateProj = addChildBlock("state_proj", linear(stateChannels));
    }

    private static Linear linear(int units) {
        Linear linear = Linear.builder().setUnits(units).build();
        linear.setInitializer(VitEncoderBlock.xavierUniform(), ai.djl.nn.Parameter.Type.WEIGHT);
        return linear;
    }

    Block getEncoder() {
        return encoder;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape s = x.getShape();
        NDArray tokens = x.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
        NDList y = inputProj.forward(ps, new NDList(tokens), training);
        y = encoder.forward(ps, y, training);
        NDArray state = stateProj.forward(ps, y, training).head();
        return new NDList(
                state.transpose(0, 2, 1).reshape(s.get(0), state.getShape().get(2), s.get(2), -1));
    }

    private static Shape tokens(Shape grid) {
        return new Shape(grid.get(0), grid.get(2) * grid.get(3), grid.get(1));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        Shape t = inputProj.getOutputShapes(new Shape[] {tokens(s)})[0];
        Shape y = stateProj.getOutputShapes(encoder.getOutputShapes(new Shape[] {t}))[0];
        return new Shape[] {new Shape(s.get(0), y.get(2), s.get(2), s.get(3))};
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        Shape t = tokens(inputs[0]);
        inputProj.initialize(manager, dataType, t);
        Shape[] d = inputProj.getOutputShapes(new Shape[] {t});
        encoder.initialize(manager, dataType, d);
        stateProj.initialize(manager, dataType, encoder.getOutputShapes(d));
    }
}
