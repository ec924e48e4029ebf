package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import dfbmodels.DeepSupervisionLoss;
import dfbmodels.FeedbackBlock;
import org.junit.jupiter.api.Test;

/**
 * Training through DJL's {@link Trainer} keeps no array per step: the number of live arrays under
 * the model's manager is the same after 2 and after 6 steps (the training counterpart of {@code
 * FeedbackBlockTest.inferenceKeepsNoArraysPerStep}), for each model family: the ResNets,
 * DeepLabV3+, the U-Net (with its per-step readouts and deep supervision) and the ViT.
 */
class TrainingMemoryTest {

    private static void assertNoArraysPerStep(
            FeedbackBlock block, Shape input, Shape labels, Loss loss) {
        int[] counts = liveArraysAfter(block, input, labels, loss);
        assertEquals(counts[0], counts[1], "live arrays after 2 and after 6 training steps");
    }

    private static int[] liveArraysAfter(
            FeedbackBlock block, Shape input, Shape labels, Loss loss) {
        Engine.getInstance().setRandomSeed(3);
        try (Model model = Model.newInstance("memory");
                NDManager data = NDManager.newBaseManager()) {
            model.setBlock(block);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(loss).optOptimizer(Optimizer.adam().build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(input);
                NDArray x = data.randomNormal(input);
                NDArray y = data.randomInteger(0, 2, labels, DataType.INT32);
                int[] counts = new int[2];
                for (int step = 1; step <= 6; step++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDList pred = trainer.forward(new NDList(x));
                        NDArray l = trainer.getLoss().evaluate(new NDList(y), pred);
                        gc.backward(l);
                        l.close();
                        pred.close();
                    }
                    trainer.step();
                    int live = ((BaseNDManager) model.getNDManager()).getManagedArrays().size();
                    if (step == 2) {
                        counts[0] = live;
                    } else if (step == 6) {
                        counts[1] = live;
                    }
                }
                return counts;
            }
        }
    }

    @Test
    void resnetTrainingKeepsNoArraysPerStep() {
        FeedbackBlock block =
                ResNet18.builder()
                        .setNumClasses(2)
                        .optFbFilters(8)
                        .optIterations(4)
                        .optAtol(0f)
                        .build();
        assertNoArraysPerStep(
                block, new Shape(2, 3, 32, 32), new Shape(2), Loss.softmaxCrossEntropyLoss());
    }

    @Test
    void deepLabTrainingKeepsNoArraysPerStep() {
        FeedbackBlock block =
                DeepLabV3Plus.builder()
                        .setNumClasses(2)
                        .optClassFilters(16)
                        .optIterations(2)
                        .optAtol(0f)
                        .build();
        assertNoArraysPerStep(
                block,
                new Shape(2, 3, 64, 64),
                new Shape(2, 1, 64, 64),
                new SoftmaxCrossEntropyLoss("loss", 1, 1, true, true));
    }

    @Test
    void unetWithDeepSupervisionTrainingKeepsNoArraysPerStep() {
        FeedbackBlock block =
                UNet.builder()
                        .setNumClasses(2)
                        .optEncoder(ResidualBlockType.BASIC, 1, 1, 1, 1)
                        .optIterations(3)
                        .optStepReadouts(true)
                        .optAtol(0f)
                        .build();
        assertNoArraysPerStep(
                block,
                new Shape(2, 3, 32, 32),
                new Shape(2, 1, 32, 32),
                new DeepSupervisionLoss(new SoftmaxCrossEntropyLoss("loss", 1, 1, true, true)));
    }

    @Test
    void vitTrainingKeepsNoArraysPerStep() {
        FeedbackBlock block =
                VisionTransformer.builder()
                        .setNumClasses(2)
                        .optInChannels(1)
                        .optImageSize(28)
                        .optPatchSize(VisionTransformer.SMALL_IMAGE_PATCH_SIZE)
                        .optNumLayers(1)
                        .optHiddenDim(32)
                        .optNumHeads(2)
                        .optMlpDim(64)
                        .optIterations(3)
                        .optAtol(0f)
                        .build();
        assertNoArraysPerStep(
                block, new Shape(2, 1, 28, 28), new Shape(2), Loss.softmaxCrossEntropyLoss());
    }
}
