package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Arrays;

/**
 * segmentation_models_pytorch's U-Net {@code DecoderBlock}: nearest-neighbour ×2 upsampling,
 * concatenation with the skip of that resolution (if any), then {@code conv1} and {@code conv2},
 * each conv 3×3 (pad 1, no bias) → BN → ReLU.
 *
 * <p>Blocks are chained in a plain {@link SequentialBlock}: the input is {@code [x, skip_1, ...,
 * skip_k]} (deepest skip first); a block with a skip consumes {@code x} and {@code skip_1} and
 * passes {@code [y, skip_2, ..., skip_k]} on, a block without one passes {@code [y, skip_1, ...]}.
 */
class UNetDecoderBlock extends AbstractBlock {

    // LibTorch's code for nearest-neighbour interpolation in DJL's JNI
    private static final int TORCH_NEAREST = 0;

    private final boolean skip;
    private final SequentialBlock conv1;
    private final SequentialBlock conv2;

    UNetDecoderBlock(int outChannels, boolean skip) {
        super((byte) 1);
        this.skip = skip;
        conv1 =
                addChildBlock(
                        "conv1",
                        Layers.convBnRelu(Layers.decoderConv(outChannels, 3, 1, 1, 1, false)));
        conv2 =
                addChildBlock(
                        "conv2",
                        Layers.convBnRelu(Layers.decoderConv(outChannels, 3, 1, 1, 1, false)));
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = upsample(inputs.head());
        if (skip) {
            x = NDArrays.concat(new NDList(x, inputs.get(1)), 1);
        }
        NDList y = conv2.forward(ps, conv1.forward(ps, new NDList(x), training), training);
        NDList out = new NDList(y.head());
        out.addAll(inputs.subNDList(skip ? 2 : 1));
        return out;
    }

    /** {@code F.interpolate(x, scale_factor=2, mode="nearest")}. */
    private static NDArray upsample(NDArray x) {
        Shape s = x.getShape();
        if (!(x instanceof PtNDArray)) {
            throw new UnsupportedOperationException(
                    "dfbmodels needs DJL's PyTorch engine, got an array of engine "
                            + x.getManager().getEngine().getEngineName());
        }
        return JniUtils.interpolate(
                (PtNDArray) x, new long[] {s.get(2) * 2, s.get(3) * 2}, TORCH_NEAREST, false);
    }

    private Shape[] convInput(Shape[] inputs) {
        Shape x = inputs[0];
        long channels = x.get(1) + (skip ? inputs[1].get(1) : 0);
        return new Shape[] {new Shape(x.get(0), channels, x.get(2) * 2, x.get(3) * 2)};
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape[] y = conv2.getOutputShapes(conv1.getOutputShapes(convInput(inputs)));
        Shape[] rest = Arrays.copyOfRange(inputs, skip ? 2 : 1, inputs.length);
        Shape[] out = new Shape[1 + rest.length];
        out[0] = y[0];
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        Shape[] in = convInput(inputs);
        conv1.initialize(manager, dataType, in);
        conv2.initialize(manager, dataType, conv1.getOutputShapes(in));
    }
}
