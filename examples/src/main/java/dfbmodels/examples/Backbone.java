package dfbmodels.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.ConvolutionCheck;

/**
 * The same backbone as a {@link FeedbackBlock} without the loop: frontend, one body pass on a
 * constant (uniform) feedback, readout of the class channels. No GroupNorm, no state operator: the
 * floor that a feedback step is compared with.
 */
final class Backbone extends AbstractBlock {

    private final FeedbackBlock model;

    Backbone(FeedbackBlock model) {
        super((byte) 1);
        this.model = model;
        addChildBlock("frontend", model.getFrontend());
        addChildBlock("body", model.getBody());
        addChildBlock("readout", model.getReadout());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        // as the feedback model's first forward does: the same (exact) convolutions for both
        ConvolutionCheck.ensureCorrect(inputs.head());
        NDArray x0 = model.getFrontend().forward(ps, inputs, training).head();
        Shape s = x0.getShape();
        int fb = model.getFeedbackChannels();
        NDArray f =
                x0.getManager()
                        .full(
                                new Shape(s.get(0), fb, s.get(2), s.get(3)),
                                1f / fb,
                                x0.getDataType(),
                                x0.getDevice());
        NDArray y =
                model.getBody()
                        .forward(ps, new NDList(NDArrays.concat(new NDList(x0, f), 1)), training)
                        .head();
        NDArray classes = y.get(new NDIndex(":, :{}", model.getClassChannels()));
        return model.getReadout().forward(ps, new NDList(classes), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return model.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        model.initialize(manager, dataType, inputShapes);
    }
}
