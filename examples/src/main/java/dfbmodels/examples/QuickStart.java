package dfbmodels.examples;

import ai.djl.Model;
import ai.djl.basicdataset.cv.classification.FashionMnist;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNet18;
import java.nio.file.Paths;

/** The README's training example, kept here so that it always compiles. */
public final class QuickStart {

    private QuickStart() {}

    /**
     * Trains a feedback ResNet18 on Fashion-MNIST (downloaded by DJL) for two epochs.
     *
     * @param args unused
     * @throws Exception if training fails
     */
    public static void main(String[] args) throws Exception {
        // README:begin
        FeedbackBlock net =
                ResNet18.builder().setNumClasses(10).optInChannels(1).optIterations(5).build();
        try (Model model = Model.newInstance("dfm")) {
            model.setBlock(net);
            FashionMnist train =
                    FashionMnist.builder()
                            .optUsage(Dataset.Usage.TRAIN)
                            .setSampling(64, true)
                            .addTransform(new ToTensor())
                            .build();
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(Optimizer.adam().build())
                            .addEvaluator(new Accuracy())
                            .addTrainingListeners(TrainingListener.Defaults.logging());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(64, 1, 28, 28));
                EasyTrain.fit(trainer, 2, train, null);
            }
            model.save(Paths.get("build", "quickstart"), "dfm");
        }
        // README:end
    }
}
