package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * segmentation_models_pytorch's ResNet encoder for a U-Net: torchvision's ResNet without {@code
 * avgpool} and {@code fc}, returning the feature map of every resolution.
 *
 * <p>Children (and {@code state_dict} names) {@code conv1} 7×7/2, {@code bn1}, {@code layer1..4}.
 * Input {@code (B, Cin, H, W)}; output, deepest first, {@code [layer4 (512e @ H/32), layer3 (256e @
 * H/16), layer2 (128e @ H/8), layer1 (64e @ H/4), stem (64 @ H/2)]}, the order in which the decoder
 * consumes them.
 */
class UNetEncoder extends AbstractBlock {

    private static final Shape POOL_KERNEL = new Shape(3, 3);
    private static final Shape POOL_STRIDE = new Shape(2, 2);
    private static final Shape POOL_PAD = new Shape(1, 1);

    private final Block conv1;
    private final Block bn1;
    private final Block[] layers = new Block[4];

    UNetEncoder(ResidualBlockType type, int[] blocks) {
        super((byte) 1);
        conv1 = addChildBlock("conv1", Layers.conv(64, 7, 2, 3, 1));
        bn1 = addChildBlock("bn1", Layers.batchNorm());
        int[] planes = {64, 128, 256, 512};
        int inplanes = 64;
        for (int i = 0; i < 4; i++) {
            layers[i] =
                    addChildBlock(
                            "layer" + (i + 1),
                            Layers.makeLayer(
                                    type, inplanes, planes[i], blocks[i], i == 0 ? 1 : 2, 1));
            inplanes = planes[i] * type.expansion();
        }
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = bn1.forward(ps, conv1.forward(ps, inputs, training), training);
        NDArray stem = Activation.relu(x.head());
        NDList out = new NDList(stem);
        x = new NDList(Pool.maxPool2d(stem, POOL_KERNEL, POOL_STRIDE, POOL_PAD, false)); // H/4
        for (Block layer : layers) {
            x = layer.forward(ps, x, training);
            out.add(0, x.head());
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape[] stem = conv1.getOutputShapes(inputs);
        Shape[] out = new Shape[5];
        out[4] = stem[0];
        Shape[] x = {pooled(stem[0])};
        for (int i = 0; i < 4; i++) {
            x = layers[i].getOutputShapes(x);
            out[3 - i] = x[0];
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        conv1.initialize(manager, dataType, inputs);
        Shape[] stem = conv1.getOutputShapes(inputs);
        bn1.initialize(manager, dataType, stem);
        Shape[] x = {pooled(stem[0])};
        for (Block layer : layers) {
            layer.initialize(manager, dataType, x);
            x = layer.getOutputShapes(x);
        }
    }

    private static Shape pooled(Shape s) {
        return new Shape(s.get(0), s.get(1), half(s.get(2)), half(s.get(3)));
    }

    private static long half(long size) {
        return (size + 2 - 3) / 2 + 1;
    }
}
