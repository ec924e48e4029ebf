package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * torchvision's {@code BasicBlock}: {@code relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))}
 * with 3×3 convolutions; {@code (B, Cin, H, W) -> (B, planes, H/stride, W/stride)}.
 */
public class BasicBlock extends AbstractBlock {

    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final Conv2d conv2;
    private final BatchNorm bn2;
    private final Block downsample;

    BasicBlock(int planes, int stride, int dilation, Block downsample) {
        super((byte) 1);
        conv1 = addChildBlock("conv1", Layers.conv(planes, 3, stride, dilation, dilation));
        bn1 = addChildBlock("bn1", Layers.batchNorm());
        conv2 = addChildBlock("conv2", Layers.conv(planes, 3, 1, dilation, dilation));
        bn2 = addChildBlock("bn2", Layers.batchNorm());
        this.downsample = downsample == null ? null : addChildBlock("downsample", downsample);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDList out = conv1.forward(ps, inputs, training);
        out = new NDList(Activation.relu(bn1.forward(ps, out, training).head()));
        out = bn2.forward(ps, conv2.forward(ps, out, training), training);
        NDArray identity = downsample == null ? x : downsample.forward(ps, inputs, training).head();
        return new NDList(Activation.relu(out.head().add(identity)));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] s = conv1.getOutputShapes(inputShapes);
        return conv2.getOutputShapes(s);
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        conv1.initialize(manager, dataType, inputs);
        Shape[] s = conv1.getOutputShapes(inputs);
        bn1.initialize(manager, dataType, s);
        conv2.initialize(manager, dataType, s);
        bn2.initialize(manager, dataType, conv2.getOutputShapes(s));
        if (downsample != null) {
            downsample.initialize(manager, dataType, inputs);
        }
    }
}
