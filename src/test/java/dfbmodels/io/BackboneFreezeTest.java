package dfbmodels.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dfbmodels.FeedbackBlock;
import dfbmodels.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link BackboneOptions.Builder#optFreeze}: what was copied whole from the file (except the head)
 * is frozen with DJL's {@link Parameter#freeze}, so a Trainer step leaves it bit for bit as loaded
 * while every other trainable parameter moves.
 */
class BackboneFreezeTest {

    private static final BackboneOptions FREEZE = BackboneOptions.builder().optFreeze(true).build();

    @Test
    void aTrainerStepMovesEverythingButTheFrozenBackbone() throws Exception {
        try (Model model = Model.newInstance("vit");
                NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock vit = Backbones.vitBuilder().optIterations(2).build();
            model.setBlock(vit);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.sgd()
                                            .setLearningRateTracker(Tracker.fixed(0.1f))
                                            .build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(1, 3, 32, 32));
                LoadReport report =
                        TorchWeights.loadBackbone(vit, Backbones.file(Backbones.VIT), FREEZE);

                // the encoder, the patch embedding and the position embedding: everything
                // copied whole, the position embedding's patch rows included
                Map<String, Parameter> params = TorchNames.of(vit);
                List<String> frozen = new ArrayList<>();
                for (String k : params.keySet()) {
                    if (report.loaded().contains(k) || k.equals("pos_embedding")) {
                        frozen.add(k);
                    }
                }
                assertEquals(frozen, report.frozen());
                assertEquals(29, frozen.size());
                List<String> trainable = new ArrayList<>();
                for (Map.Entry<String, Parameter> p : params.entrySet()) {
                    if (frozen.contains(p.getKey())) {
                        assertFalse(p.getValue().requiresGradient(), p.getKey());
                    } else if (p.getValue().requiresGradient()) {
                        trainable.add(p.getKey());
                    }
                }
                assertEquals(
                        List.of(
                                "input_proj.weight",
                                "input_proj.bias",
                                "state_proj.weight",
                                "state_proj.bias",
                                "error_head.Q",
                                "fc_norm.weight",
                                "fc_norm.bias",
                                "head.weight",
                                "head.bias"),
                        trainable);

                Map<String, float[]> before = Backbones.snapshot(vit);
                NDList io = Fixtures.load(m, "torchvision_" + Backbones.VIT + ".io.safetensors");
                NDArray x = io.get("input");
                NDArray label = m.create(new float[] {3f});
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDArray logits = trainer.forward(new NDList(x)).head();
                    NDArray loss =
                            trainer.getLoss().evaluate(new NDList(label), new NDList(logits));
                    gc.backward(loss);
                }
                trainer.step();
                Map<String, float[]> after = Backbones.snapshot(vit);
                for (String k : frozen) {
                    assertArrayEquals(before.get(k), after.get(k), k + " is frozen");
                }
                for (String k : trainable) {
                    // Q has no gradient while S is uniform (docs/porting.md, uniform shortcut)
                    boolean moved = maxDiff(before.get(k), after.get(k)) > 0;
                    assertEquals(!k.equals("error_head.Q"), moved, k);
                }
            }
        }
    }

    @Test
    void aResNetFreezesWhatItLoadedWholeButNotTheHeadOrTheWidenedLayers() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock r18 = Backbones.resnet18(m);
            LoadReport report =
                    TorchWeights.loadBackbone(r18, Backbones.file(Backbones.RESNET18), FREEZE);
            List<String> want = new ArrayList<>();
            for (String k : report.loaded()) {
                if (!k.endsWith("running_mean") && !k.endsWith("running_var")) {
                    want.add(k); // the running statistics never take a gradient
                }
            }
            assertEquals(want, report.frozen());
            assertEquals(44, want.size());
            Map<String, Parameter> params = TorchNames.of(r18);
            // layer1.0.conv1, layer4, fc and the new layer1.0.downsample: their new parts train
            List<String> notFrozen = new ArrayList<>(report.sliced());
            notFrozen.addAll(report.initialised().keySet());
            for (String k : notFrozen) {
                assertEquals(!k.contains("running_"), params.get(k).requiresGradient(), k);
            }
            assertTrue(report.summary().contains("; froze 44"), report.summary());
        }
    }

    private static float maxDiff(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
