package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dfbmodels.FeedbackBlock;
import dfbmodels.data.Polygons;
import dfbmodels.eval.ClassIoU;
import dfbmodels.eval.MeanIoU;
import org.junit.jupiter.api.Test;

class UNetLearningTest {

    private static final int SIZE = 64;
    private static final int EPOCHS = 3;
    private static final int TRAIN = 16;

    @Test
    void learnsToSegmentNoisyTriangles() throws Exception {
        Engine.getInstance().setRandomSeed(1234);
        Polygons train =
                Polygons.builder()
                        .setSize(TRAIN)
                        .optSigma(0.5f)
                        .optSeed(1)
                        .setSampling(2, true)
                        .build();
        Polygons test =
                Polygons.builder()
                        .setSize(16)
                        .optSigma(0.5f)
                        .optSeed(2)
                        .optFreshNoise(false)
                        .setSampling(8, false)
                        .build();
        FeedbackBlock block =
                UNet.builder()
                        .setNumClasses(2)
                        .optEncoder(ResidualBlockType.BASIC, 1, 1, 1, 1)
                        .optIterations(2)
                        .build();
        long start = System.nanoTime();
        try (Model model = Model.newInstance("unet")) {
            model.setBlock(block);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(new SoftmaxCrossEntropyLoss("ce", 1, 1, true, true))
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(1e-2f))
                                            .build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(2, 3, SIZE, SIZE));
                for (int epoch = 0; epoch < EPOCHS; epoch++) {
                    for (Batch batch : trainer.iterateDataset(train)) {
                        EasyTrain.trainBatch(trainer, batch);
                        trainer.step();
                        batch.close();
                    }
                }
            }
            MeanIoU meanIoU = new MeanIoU(2);
            ClassIoU triangle = new ClassIoU(2, 1);
            meanIoU.addAccumulator("test");
            triangle.addAccumulator("test");
            NDManager manager = model.getNDManager();
            for (Batch batch : test.getData(manager)) {
                try (batch) {
                    NDList logits =
                            block.forward(
                                    new ParameterStore(batch.getManager(), false),
                                    batch.getData(),
                                    false);
                    meanIoU.updateAccumulator("test", batch.getLabels(), logits);
                    triangle.updateAccumulator("test", batch.getLabels(), logits);
                }
            }
            double miou = meanIoU.getAccumulator("test");
            double fg = triangle.getAccumulator("test");
            System.out.printf(
                    "U-Net (1,1,1,1 encoder, T=2) on %d noisy triangles (sigma 0.5), %d epochs:"
                            + " mean IoU %.3f, triangle IoU %.3f in %.0f s%n",
                    TRAIN, EPOCHS, miou, fg, (System.nanoTime() - start) / 1e9);
            assertTrue(miou > MEAN_IOU_THRESHOLD, "mean IoU " + miou);
            assertTrue(fg > TRIANGLE_IOU_THRESHOLD, "triangle IoU " + fg);
        }
    }

    // measured (seed 1234): mean IoU 0.791, triangle IoU 0.602 after these 24 steps of batch 2;
    // predicting background everywhere scores ~0.46 and 0. Short runs need >= ~20 steps: the
    // BatchNorm running statistics used in evaluation lag behind (after 12 steps of batch 4 the
    // same run scored 0.27)
    private static final double MEAN_IOU_THRESHOLD = 0.65;
    private static final double TRIANGLE_IOU_THRESHOLD = 0.4;
}
