package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.io.TorchNames;
import dfbmodels.nn.ConvolutionCheck;
import dfbmodels.nn.Interpolation;
import dfbmodels.nn.MultiheadAttention;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VisionTransformerTest {

    /** D 64, 2 layers, 4 heads, MLP 128, 32×32 images in 4×4 patches (an 8×8 grid), fb 8. */
    static VisionTransformer.Builder small32() {
        return VisionTransformer.builder()
                .setNumClasses(10)
                .optImageSize(32)
                .optPatchSize(VisionTransformer.SMALL_IMAGE_PATCH_SIZE)
                .optNumLayers(2)
                .optHiddenDim(64)
                .optNumHeads(4)
                .optMlpDim(128);
    }

    private static PairList<String, Object> steps(int t) {
        PairList<String, Object> p = new PairList<>();
        p.add(FeedbackBlock.ITERATIONS, t);
        p.add(FeedbackBlock.RETURN_STATES, true);
        return p;
    }

    @Test
    void shapesAndTorchvisionNames() {
        Engine.getInstance().setRandomSeed(1);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = small32().optAtol(0f).build();
            Shape in = new Shape(2, 3, 32, 32);
            model.initialize(m, DataType.FLOAT32, in);
            assertEquals(64, model.getClassChannels());
            assertEquals(8, model.getFeedbackChannels());
            NDList out =
                    model.forward(
                            new ParameterStore(m, false),
                            new NDList(m.randomUniform(0, 1, in)),
                            false,
                            steps(3));
            assertEquals(new Shape(2, 10), out.head().getShape());
            assertEquals(4, out.size());
            assertEquals(new Shape(2, 72, 8, 8), out.get(3).getShape());
            assertEquals(new Shape(2, 10), model.getOutputShapes(new Shape[] {in})[0]);

            Map<String, Parameter> p = TorchNames.of(model);
            List<String> expected =
                    new ArrayList<>(
                            List.of(
                                    "conv_proj.weight",
                                    "conv_proj.bias",
                                    "pos_embedding",
                                    "input_proj.weight",
                                    "input_proj.bias"));
            for (int i = 0; i < 2; i++) {
                String l = "encoder.layers.encoder_layer_" + i + ".";
                for (String s :
                        new String[] {
                            "ln_1.weight",
                            "ln_1.bias",
                            "self_attention.in_proj_weight",
                            "self_attention.in_proj_bias",
                            "self_attention.out_proj.weight",
                            "self_attention.out_proj.bias",
                            "ln_2.weight",
                            "ln_2.bias",
                            "mlp.0.weight",
                            "mlp.0.bias",
                            "mlp.3.weight",
                            "mlp.3.bias"
                        }) {
                    expected.add(l + s);
                }
            }
            expected.addAll(
                    List.of(
                            "encoder.ln.weight",
                            "encoder.ln.bias",
                            "state_proj.weight",
                            "state_proj.bias"));
            expected.addAll(
                    List.of("error_head.S", "error_head.Q", "error_head.alpha", "error_head.tau"));
            expected.addAll(
                    List.of(
                            "layernorm_error.weight",
                            "layernorm_error.bias",
                            "layernorm_input.weight",
                            "layernorm_input.bias",
                            "fc_norm.weight",
                            "fc_norm.bias",
                            "head.weight",
                            "head.bias"));
            assertEquals(
                    expected.stream().sorted().toList(), p.keySet().stream().sorted().toList());
            assertEquals(new Shape(64, 3, 4, 4), p.get("conv_proj.weight").getShape());
            assertEquals(new Shape(1, 64, 64), p.get("pos_embedding").getShape());
            assertEquals(new Shape(64, 72), p.get("input_proj.weight").getShape());
            assertEquals(
                    new Shape(192, 64),
                    p.get("encoder.layers.encoder_layer_1.self_attention.in_proj_weight")
                            .getShape());
            assertEquals(
                    new Shape(192),
                    p.get("encoder.layers.encoder_layer_1.self_attention.in_proj_bias").getShape());
            assertEquals(
                    new Shape(128, 64),
                    p.get("encoder.layers.encoder_layer_0.mlp.0.weight").getShape());
            assertEquals(
                    new Shape(64, 128),
                    p.get("encoder.layers.encoder_layer_0.mlp.3.weight").getShape());
            assertEquals(new Shape(64), p.get("encoder.ln.weight").getShape());
            assertEquals(new Shape(72, 64), p.get("state_proj.weight").getShape());
            assertEquals(new Shape(72, 72), p.get("error_head.Q").getShape());
            assertEquals(new Shape(64), p.get("fc_norm.weight").getShape());
            assertEquals(new Shape(10, 64), p.get("head.weight").getShape());
        }
    }

    private static MultiheadAttention attention(FeedbackBlock model, int layer) {
        Block layers = VisionTransformer.encoder(model).getChildren().get("02layers");
        Block block = layers.getChildren().get(layer).getValue();
        return (MultiheadAttention) block.getChildren().get("02self_attention");
    }

    @Test
    void presetsHaveTheViTSizes() {
        int[][] sizes = {{192, 3, 768}, {384, 6, 1536}, {768, 12, 3072}};
        List<Supplier<VisionTransformer.Builder>> presets =
                List.of(VisionTransformer::tiny, VisionTransformer::small, VisionTransformer::base);
        for (int i = 0; i < 3; i++) {
            FeedbackBlock model = presets.get(i).get().setNumClasses(10).build();
            Block layers = VisionTransformer.encoder(model).getChildren().get("02layers");
            assertEquals(12, layers.getChildren().size());
            assertEquals(sizes[i][0], attention(model, 11).getEmbedDim());
            assertEquals(sizes[i][1], attention(model, 11).getNumHeads());
            assertEquals(sizes[i][0], model.getClassChannels());
        }
        // tiny at 224 in 16x16 patches: a 14x14 grid, 196 tokens
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock tiny = VisionTransformer.tiny().setNumClasses(10).build();
            tiny.initialize(m, DataType.FLOAT32, new Shape(1, 3, 224, 224));
            Map<String, Parameter> p = TorchNames.of(tiny);
            assertEquals(new Shape(1, 196, 192), p.get("pos_embedding").getShape());
            assertEquals(new Shape(192, 3, 16, 16), p.get("conv_proj.weight").getShape());
            assertEquals(
                    new Shape(768, 192),
                    p.get("encoder.layers.encoder_layer_11.mlp.0.weight").getShape());
            assertEquals(new Shape(200, 200), p.get("error_head.Q").getShape());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> tiny.getOutputShapes(new Shape[] {new Shape(1, 3, 200, 200)}));
        }
    }

    private static String error(Supplier<FeedbackBlock> build) {
        return assertThrows(IllegalArgumentException.class, build::get).getMessage();
    }

    @Test
    void badCombinationsFailAtBuildTimeNamingWhatIsValid() {
        assertEquals(
                "hiddenDim=100 must be divisible by numHeads=3 (every head gets hiddenDim/numHeads"
                        + " channels); valid numHeads for hiddenDim=100: 1, 2, 4, 5, 10, 20, 25, 50,"
                        + " 100",
                error(() -> small32().optHiddenDim(100).optNumHeads(3).build()));
        assertEquals(
                "imageSize=30 must be a positive multiple of patchSize=4 (the patch grid is"
                        + " imageSize/patchSize); valid imageSize near it: 28, 32",
                error(() -> small32().optImageSize(30).build()));
        assertEquals(
                "imageSize=2 must be a positive multiple of patchSize=4 (the patch grid is"
                        + " imageSize/patchSize); valid imageSize near it: 4",
                error(() -> small32().optImageSize(2).build()));
        assertEquals(
                "VisionTransformer cannot use fbFilters=6 with normGroups=8 and classFilters=64:"
                        + " the feedback GroupNorm needs fbFilters and the state GroupNorm needs"
                        + " classFilters + fbFilters to be multiples of 8. Valid fbFilters: 8, 16,"
                        + " 24, 32, ...",
                error(() -> small32().optFbFilters(6).build()));
        assertEquals(
                "VisionTransformer cannot use fbFilters=8 with normGroups=8 and classFilters=20:"
                        + " the feedback GroupNorm needs fbFilters and the state GroupNorm needs"
                        + " classFilters + fbFilters to be multiples of 8. Valid fbFilters: none,"
                        + " since classFilters=20 is not a multiple of 8; choose classFilters or"
                        + " normGroups so that it is",
                error(() -> small32().optClassFilters(20).build()));
        assertEquals(
                "dropout must be in [0, 1), got 1.0",
                error(() -> small32().optDropout(1f).build()));
        assertEquals(
                "attentionDropout must be in [0, 1), got -0.1",
                error(() -> small32().optAttentionDropout(-0.1f).build()));
        assertEquals(
                "numLayers must be positive, got 0",
                error(() -> small32().optNumLayers(0).build()));
        assertEquals(
                "patchSize must be positive, got 0",
                error(() -> small32().optPatchSize(0).build()));
        assertEquals(
                "numClasses must be set to a positive number (setNumClasses), got -1",
                error(() -> VisionTransformer.tiny().build()));
        // inputs: multiples of the patch, the configured channels
        FeedbackBlock model = small32().build();
        assertEquals(
                "input height and width must be multiples of 4, got 30x32 (input shape (1, 3, 30,"
                        + " 32)); nearest valid sizes: 28x32 (rounded down) or 32x32 (rounded up)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> model.checkInput(new Shape(1, 3, 30, 32)))
                        .getMessage());
        assertEquals(
                "model is not a VisionTransformer (its body is a NamedSequentialBlock); build it"
                        + " with VisionTransformer.builder()",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        VisionTransformer.encoder(
                                                ResNet18.builder().setNumClasses(2).build()))
                        .getMessage());
    }

    @Test
    void theEncoderIsTheModelsOwnBlockAndCanBeFrozen() {
        Engine.getInstance().setRandomSeed(7);
        try (Model model = Model.newInstance("vit");
                NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock vit = small32().optIterations(2).build();
            model.setBlock(vit);
            Block encoder = VisionTransformer.encoder(vit);
            assertSame(vit.getBody().getChildren().get("02encoder"), encoder);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(1e-2f))
                                            .build());
            try (Trainer trainer = model.newTrainer(config)) {
                Shape in = new Shape(4, 3, 32, 32);
                trainer.initialize(in);
                encoder.freezeParameters(true);
                Map<String, Parameter> p = TorchNames.of(vit);
                String frozen = "encoder.layers.encoder_layer_1.self_attention.in_proj_weight";
                NDArray before = p.get(frozen).getArray().duplicate();
                NDArray projBefore = p.get("input_proj.weight").getArray().duplicate();
                // (B, N, D) -> (B, N, D) on its own
                NDArray tokens = m.randomNormal(new Shape(3, 5, 64));
                NDArray out =
                        encoder.forward(new ParameterStore(m, false), new NDList(tokens), false)
                                .head();
                assertEquals(new Shape(3, 5, 64), out.getShape());
                // the final LayerNorm (weight 1, bias 0 at init): every token has mean 0, var 1
                assertEquals(0f, out.mean(new int[] {2}).abs().max().getFloat(), 1e-5f);
                assertEquals(1f, out.square().mean(new int[] {2}).min().getFloat(), 1e-3f);
                NDArray x = m.randomUniform(0, 1, in);
                NDArray y = m.create(new int[] {0, 1, 2, 3});
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDArray logits = trainer.forward(new NDList(x)).head();
                    gc.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(logits)));
                }
                trainer.step();
                assertEquals(0f, p.get(frozen).getArray().sub(before).abs().max().getFloat());
                assertTrue(
                        p.get("input_proj.weight").getArray().sub(projBefore).abs().max().getFloat()
                                > 1e-3f);
            }
        }
    }

    @Test
    void otherSizesGetABilinearlyResizedPositionEmbedding() {
        Engine.getInstance().setRandomSeed(3);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = small32().build();
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            NDArray x = m.randomUniform(0, 1, new Shape(2, 3, 48, 40));
            ConvolutionCheck.ensureCorrect(x);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x0 = model.getFrontend().forward(ps, new NDList(x), false).head();
            assertEquals(new Shape(2, 64, 12, 10), x0.getShape());
            Block conv = model.getFrontend().getChildren().get("01conv_proj");
            NDArray patches = conv.forward(ps, new NDList(x), false).head();
            NDArray grid =
                    TorchNames.of(model)
                            .get("pos_embedding")
                            .getArray()
                            .transpose(0, 2, 1)
                            .reshape(1, 64, 8, 8);
            NDArray want = patches.add(Interpolation.bilinear(grid, 12, 10, false));
            assertEquals(0f, x0.sub(want).abs().max().getFloat(), 1e-6f);
            NDList out = model.forward(ps, new NDList(x), false, steps(2));
            assertEquals(new Shape(2, 10), out.head().getShape());
            assertEquals(new Shape(2, 72, 12, 10), out.get(2).getShape());
        }
    }

    @Test
    void feedbackChangesTheOutputAndTheTwinRunsOneStep() {
        Engine.getInstance().setRandomSeed(5);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(2, 3, 32, 32);
            FeedbackBlock loop = small32().optAtol(0f).build();
            FeedbackBlock twin = small32().optAtol(0f).optFeedback(false).build();
            loop.initialize(m, DataType.FLOAT32, in);
            twin.initialize(m, DataType.FLOAT32, in);
            Map<String, Parameter> a = TorchNames.of(loop);
            Map<String, Parameter> b = TorchNames.of(twin);
            assertEquals(a.keySet(), b.keySet());
            for (Map.Entry<String, Parameter> p : a.entrySet()) {
                b.get(p.getKey()).getArray().set(p.getValue().getArray().toByteBuffer());
            }
            NDArray x = m.randomUniform(0, 1, in);
            ParameterStore ps = new ParameterStore(m, false);
            NDList once = loop.forward(ps, new NDList(x), false, steps(1));
            NDList five = loop.forward(ps, new NDList(x), false, steps(5));
            NDList twinOut = twin.forward(ps, new NDList(x), false, steps(5));
            assertEquals(2, twinOut.size());
            assertEquals(0f, twinOut.head().sub(once.head()).abs().max().getFloat());
            assertTrue(five.head().sub(once.head()).abs().max().getFloat() > 1e-3f);
        }
    }

    @Test
    void savesAndLoadsThroughDjlsModel(@TempDir Path dir) throws Exception {
        Engine.getInstance().setRandomSeed(9);
        Shape in = new Shape(2, 3, 32, 32);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomUniform(0, 1, in);
            NDArray want;
            Map<String, NDArray> saved = new java.util.HashMap<>();
            try (Model model = Model.newInstance("vit")) {
                FeedbackBlock vit = small32().optIterations(3).build();
                model.setBlock(vit);
                vit.initialize(model.getNDManager(), DataType.FLOAT32, in);
                want = vit.forward(new ParameterStore(m, false), new NDList(x), false).head();
                TorchNames.of(vit).forEach((k, p) -> saved.put(k, p.getArray().duplicate()));
                saved.values().forEach(a -> a.attach(m));
                model.save(dir, "vit");
            }
            assertTrue(Files.exists(dir.resolve("vit-0000.params")));
            try (Model model = Model.newInstance("vit")) {
                FeedbackBlock vit = small32().optIterations(3).build();
                model.setBlock(vit);
                model.load(dir, "vit");
                Map<String, Parameter> loaded = TorchNames.of(vit);
                assertEquals(saved.keySet(), loaded.keySet());
                for (Map.Entry<String, Parameter> p : loaded.entrySet()) {
                    assertEquals(
                            0f,
                            p.getValue()
                                    .getArray()
                                    .sub(saved.get(p.getKey()))
                                    .abs()
                                    .max()
                                    .getFloat(),
                            p.getKey());
                }
                NDArray got =
                        vit.forward(new ParameterStore(m, false), new NDList(x), false).head();
                // same parameters, new allocations: LibTorch's kernels may round differently
                assertEquals(0f, got.sub(want).abs().max().getFloat(), 1e-5f);
            }
        }
    }

    @Test
    void trainingAndInferenceKeepNoArraysPerStepInTheModel() {
        Engine.getInstance().setRandomSeed(4);
        try (Model model = Model.newInstance("vit");
                NDManager data = NDManager.newBaseManager()) {
            // other than the configured size: the resized position embedding too
            FeedbackBlock vit = small32().optNumLayers(1).optIterations(3).optAtol(0f).build();
            model.setBlock(vit);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(Optimizer.adam().build());
            try (Trainer trainer = model.newTrainer(config)) {
                Shape in = new Shape(2, 3, 40, 40);
                trainer.initialize(in);
                NDArray x = data.randomUniform(0, 1, in);
                NDArray y = data.create(new int[] {1, 2});
                BaseNDManager manager = (BaseNDManager) model.getNDManager();
                int[] live = new int[4];
                for (int step = 1; step <= 6; step++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray pred = trainer.forward(new NDList(x)).head();
                        NDArray l = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                        gc.backward(l);
                        l.close();
                        pred.close();
                    }
                    trainer.step();
                    try (NDManager scope = data.newSubManager()) {
                        scope.tempAttachAll(x);
                        vit.forward(new ParameterStore(scope, false), new NDList(x), false);
                    }
                    if (step == 2 || step == 6) {
                        live[step == 2 ? 0 : 1] = manager.getManagedArrays().size();
                    }
                }
                assertEquals(live[0], live[1], "live arrays in the model after 2 and 6 steps");
            }
        }
    }
}
