package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The examples' learning-rate schedules, and how DJL's Adam counts the updates it asks for. */
class LearningRateTest {

    @Test
    void cosineGoesFromTheRateToZeroOverTheRun() throws Exception {
        assertEquals("cosine", Options.parse().lrSchedule, "the default");
        assertEquals("cosine", RobustnessOptions.parse().base.lrSchedule, "the default");
        Options o = Options.parse("--lr", "0.002");
        Tracker cosine = TrainMnist.learningRate(o, 100);
        // update k = 1 .. 100 gets lr/2 * (1 + cos(pi * (k - 1) / 100))
        assertEquals(0.002f, cosine.getNewValue(1), 1e-9f);
        assertEquals(0.001f * (1 + Math.cos(Math.PI / 4)), cosine.getNewValue(26), 1e-9f);
        assertEquals(0.001f, cosine.getNewValue(51), 1e-9f);
        assertEquals(0.001f * (1 + Math.cos(Math.PI * 99 / 100)), cosine.getNewValue(100), 1e-9f);
        assertEquals(4.93e-7f, cosine.getNewValue(100), 1e-9f, "the last step still moves");
        Tracker constant = TrainMnist.learningRate(Options.parse("--lr-schedule", "constant"), 100);
        for (int k : new int[] {1, 50, 100}) {
            assertEquals(1e-3f, constant.getNewValue(k));
        }
    }

    @Test
    void adamAsksForUpdatesOneToSteps() {
        // what learningRate's shift by one relies on
        List<Integer> asked = new ArrayList<>();
        Tracker recording =
                k -> {
                    asked.add(k);
                    return 1e-3f;
                };
        try (Model model = Model.newInstance("lr");
                NDManager data = NDManager.newBaseManager()) {
            model.setBlock(Linear.builder().setUnits(1).optBias(false).build());
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.l2Loss())
                            .optOptimizer(
                                    Optimizer.adam().optLearningRateTracker(recording).build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(2, 3));
                NDArray x = data.ones(new Shape(2, 3));
                for (int step = 0; step < 3; step++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDList pred = trainer.forward(new NDList(x));
                        gc.backward(
                                trainer.getLoss()
                                        .evaluate(new NDList(x.sum(new int[] {1}, true)), pred));
                    }
                    trainer.step();
                }
            }
        }
        assertEquals(List.of(1, 2, 3), asked);
    }
}
