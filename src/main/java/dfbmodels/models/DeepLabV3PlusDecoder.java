package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.nn.Interpolation;

/**
 * The DeepLabV3+ decoder of segmentation_models_pytorch, output stride 16.
 *
 * <p>Inputs {@code [l4, l1]}: the encoder's last feature map {@code (B, 512e, H/16, W/16)} and its
 * high-resolution one {@code (B, 64e, H/4, W/4)}. {@code aspp} (ASPP, separable 3×3, BN, ReLU) on
 * {@code l4}, ×4 bilinear upsampling (align_corners=True), {@code block1} (1×1 conv to 48, BN,
 * ReLU) on {@code l1}, concatenation, {@code block2} (separable 3×3, BN, ReLU). Output {@code (B,
 * out, H/4, W/4)}.
 */
class DeepLabV3PlusDecoder extends AbstractBlock {

    private static final int HIGHRES_CHANNELS = 48;

    private final SequentialBlock aspp;
    private final SequentialBlock block1;
    private final SequentialBlock block2;

    DeepLabV3PlusDecoder(int encoderChannels, int outChannels) {
        super((byte) 1);
        aspp =
                new SequentialBlock()
                        .add(new Aspp(encoderChannels, outChannels))
                        .add(Layers.separable(outChannels, outChannels, 1, 1))
                        .add(Layers.batchNorm())
                        .add(Activation.reluBlock());
        addChildBlock("aspp", aspp);
        block1 = Layers.convBnRelu(Layers.decoderConv(HIGHRES_CHANNELS, 1, 0, 1, 1, false));
        addChildBlock("block1", block1);
        block2 =
                Layers.convBnRelu(
                        Layers.separable(outChannels + HIGHRES_CHANNELS, outChannels, 1, 1));
        addChildBlock("block2", block2);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray high = block1.forward(ps, new NDList(inputs.get(1)), training).head();
        NDArray low = aspp.forward(ps, new NDList(inputs.get(0)), training).head();
        Shape s = low.getShape();
        NDArray up = Interpolation.bilinear(low, s.get(2) * 4, s.get(3) * 4, true);
        return block2.forward(ps, new NDList(NDArrays.concat(new NDList(up, high), 1)), training);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape l1 = inputs[1];
        Shape low = aspp.getOutputShapes(new Shape[] {inputs[0]})[0];
        Shape cat =
                new Shape(l1.get(0), low.get(1) + HIGHRES_CHANNELS, low.get(2) * 4, low.get(3) * 4);
        return block2.getOutputShapes(new Shape[] {cat});
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        aspp.initialize(manager, dataType, inputs[0]);
        block1.initialize(manager, dataType, inputs[1]);
        Shape low = aspp.getOutputShapes(new Shape[] {inputs[0]})[0];
        block2.initialize(
                manager,
                dataType,
                new Shape(
                        inputs[1].get(0),
                        low.get(1) + HIGHRES_CHANNELS,
                        low.get(2) * 4,
                        low.get(3) * 4));
    }
}
