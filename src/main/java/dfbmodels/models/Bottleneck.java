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
 * torchvision's {@code Bottleneck} (ResNet v1.5, stride on the 3×3 conv): 1×1 to {@code planes},
 * 3×3, 1×1 to {@code 4·planes}, each with BN, ReLU after the first two and after the residual sum;
 * {@code (B, Cin, H, W) -> (B, 4·planes, H/stride, W/stride)}.
 */
public class Bottleneck extends AbstractBlock {

    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final Conv2d conv2;
    private final BatchNorm bn2;
    private final Conv2d conv3;
    private final BatchNorm bn3;
    private final Block downsample;

    Bottleneck(int planes, int stride, int dilation, Block downsample) {
        super((byte) 1);
        conv1 = addChildBlock("conv1", Layers.conv(planes, 1, 1, 0, 1));
        bn1 = addChildBlock("bn1", Layers.batchNorm());
        conv2 = addChildBlock("conv2", Layers.conv(planes, 3, stride, dilation, dilation));
        bn2 = addChildBlock("bn2", Layers.batchNorm());
        conv3 = addChildBlock("conv3", Layers.conv(planes * 4, 1, 1, 0, 1));
        bn3 = addChildBlock("bn3", Layers.batchNorm());
        this.downsample = downsample == null ? null : addChildBlock("downsample", downsample);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDList out = conv1.forward(ps, inputs, training);
        out = new NDList(Activation.relu(bn1.forward(ps, out, training).head()));
        out = conv2.forward(ps, out, training);
        out = new NDList(Activation.relu(bn2.forward(ps, out, training).head()));
        out = bn3.forward(ps, conv3.forward(ps, out, training), training);
        NDArray identity = downsample == null ? x : downsample.forward(ps, inputs, training).head();
        return new NDList(Activation.relu(out.head().add(identity)));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return conv3.getOutputShapes(conv2.getOutputShapes(conv1.getOutputShapes(inputShapes)));
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        conv1.initialize(manager, dataType, inputs);
        Shape[] s1 = conv1.getOutputShapes(inputs);
        bn1.initialize(manager, dataType, s1);
        conv2.initialize(manager, dataType, s1);
        Shape[] s2 = conv2.getOutputShapes(s1);
        bn2.initialize(manager, dataType, s2);
        conv3.initialize(manager, dataType, s2);
        bn3.initialize(manager, dataType, conv3.getOutputShapes(s2));
        if (downsample != null) {
            downsample.initialize(manager, dataType, inputs);
        }
    }
}
