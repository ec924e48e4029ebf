package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dfbmodels.nn.NamedSequentialBlock;

/**
 * The body of the feedback DeepLabV3+: max-pool 3/2, {@code encoder} ({@code layer1..layer4},
 * {@code layer4} dilated), {@code decoder}; {@code (B, 64 + fb, H/2, W/2) -> (B, out, H/4, W/4)}.
 */
class DeepLabBody extends AbstractBlock {

    private static final Shape POOL_KERNEL = new Shape(3, 3);
    private static final Shape POOL_STRIDE = new Shape(2, 2);
    private static final Shape POOL_PAD = new Shape(1, 1);

    private final NamedSequentialBlock encoder;
    private final DeepLabV3PlusDecoder decoder;

    DeepLabBody(NamedSequentialBlock encoder, DeepLabV3PlusDecoder decoder) {
        super((byte) 1);
        this.encoder = addChildBlock("encoder", encoder);
        this.decoder = addChildBlock("decoder", decoder);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = Pool.maxPool2d(inputs.head(), POOL_KERNEL, POOL_STRIDE, POOL_PAD, false);
        NDList out = new NDList(x);
        NDArray l1 = null;
        for (Pair<String, Block> layer : encoder.getChildren()) {
            out = layer.getValue().forward(ps, out, training);
            if (l1 == null) {
                l1 = out.head();
            }
        }
        return decoder.forward(ps, new NDList(out.head(), l1), training);
    }

    private Shape[] encoderShapes(Shape input) {
        Shape pooled =
                new Shape(input.get(0), input.get(1), half(input.get(2)), half(input.get(3)));
        Shape l1 = encoder.getChildren().get(0).getValue().getOutputShapes(new Shape[] {pooled})[0];
        Shape l4 = encoder.getOutputShapes(new Shape[] {pooled})[0];
        return new Shape[] {pooled, l4, l1};
    }

    private static long half(long size) {
        return (size + 2 - 3) / 2 + 1;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape[] s = encoderShapes(inputs[0]);
        return decoder.getOutputShapes(new Shape[] {s[1], s[2]});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        Shape[] s = encoderShapes(inputs[0]);
        encoder.initialize(manager, dataType, s[0]);
        decoder.initialize(manager, dataType, s[1], s[2]);
    }
}
