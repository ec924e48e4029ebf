package dfbmodels.models;

import static dfbmodels.Fixtures.report;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.Fixtures;
import dfbmodels.SeededWeights;
import dfbmodels.io.TorchNames;
import dfbmodels.io.TorchWeights;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with the PyTorch original: on the repository's seeded fixtures ({@code seeded_*}, from
 * {@code tools/make_fixtures.py}, always) and on the original's own ResNet18 fixtures ({@code
 * ../shared/fixtures/resnet18_fb8_32.*}, when present). The fixture's metadata says what to build.
 */
class ResNetParityTest {

    private static FeedbackBlock build(
            Map<String, String> meta, DataType type, NDArray input, boolean uniformShortcut)
            throws Exception {
        FeedbackResNet.Builder builder;
        switch (meta.get("arch")) {
            case "resnet18":
                builder = ResNet18.builder();
                break;
            case "resnet34":
                builder = ResNet34.builder();
                break;
            case "resnet50":
                builder = ResNet50.builder();
                break;
            case "feedback_resnet":
                builder =
                        FeedbackResNet.builder()
                                .setBlockType(
                                        ResidualBlockType.valueOf(meta.get("block").toUpperCase()))
                                .setLayers(
                                        Arrays.stream(meta.get("layers").split(","))
                                                .mapToInt(Integer::parseInt)
                                                .toArray());
                break;
            default:
                throw new AssertionError("unknown arch in fixture metadata: " + meta.get("arch"));
        }
        FeedbackBlock model =
                builder.setNumClasses(Integer.parseInt(meta.get("n_classes")))
                        .optFbFilters(Integer.parseInt(meta.get("fb_filters")))
                        .optInChannels(Integer.parseInt(meta.getOrDefault("in_channels", "3")))
                        .optIterations(Integer.parseInt(meta.get("iterations")))
                        .optAtol(Float.parseFloat(meta.get("atol")))
                        .optTau(Float.parseFloat(meta.get("tau")))
                        .optUniformShortcut(uniformShortcut)
                        .build();
        model.initialize(input.getManager(), type, input.getShape());
        if ("seeded".equals(meta.get("weights"))) {
            SeededWeights.apply(model, meta);
        } else {
            TorchWeights.load(model, Fixtures.path(meta.get("weights")));
        }
        return model;
    }

    private static PairList<String, Object> returnStates() {
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.RETURN_STATES, true);
        return params;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "seeded_resnet18_fb8_64x48.eval.io.safetensors",
                "seeded_bottleneck1111_fb2_48x64.eval.io.safetensors",
                "resnet18_fb8_32.eval.io.safetensors"
            })
    void evalFloat32MatchesLogitsAndEveryState(String io) throws Exception {
        Map<String, String> meta = Fixtures.metadata(io);
        assertEquals("eval", meta.get("mode"));
        int steps = Integer.parseInt(meta.get("iterations"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = Fixtures.load(m, io);
            NDArray input = ref.get("input");
            FeedbackBlock model = build(meta, DataType.FLOAT32, input, true);
            NDList out =
                    model.forward(
                            new ParameterStore(m, false), new NDList(input), false, returnStates());
            assertEquals(1 + steps, out.size());
            report(io + " logits", out.get(0), ref.get("logits"), 1e-4);
            for (int i = 1; i <= steps; i++) {
                report(io + " state." + i, out.get(i), ref.get("state." + i), 1e-4);
            }
        }
    }

    // S is uniform here, so the shortcut applies; without it, training runs the QR and both
    // products as the original
    @ParameterizedTest(name = "{0} uniformShortcut={1}")
    @CsvSource({
        "seeded_resnet18_fb8_48x40.train.io.safetensors, true",
        "seeded_resnet18_fb8_48x40.train.io.safetensors, false",
        "resnet18_fb8_32.train.io.safetensors, true",
        "resnet18_fb8_32.train.io.safetensors, false"
    })
    void trainFloat64MatchesLossGradientsAndRunningStatistics(String io, boolean uniformShortcut)
            throws Exception {
        Map<String, String> meta = Fixtures.metadata(io);
        assertEquals("train", meta.get("mode"));
        assertEquals("float64", meta.get("dtype"));
        int steps = Integer.parseInt(meta.get("iterations"));
        int classes = Integer.parseInt(meta.get("n_classes"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = Fixtures.load(m, io);
            NDArray input = ref.get("input");
            FeedbackBlock model = build(meta, DataType.FLOAT64, input, uniformShortcut);
            Map<String, Parameter> params = TorchNames.of(model);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out =
                        model.forward(
                                new ParameterStore(m, false),
                                new NDList(input),
                                true,
                                returnStates());
                NDArray logits = out.get(0);
                assertEquals(DataType.FLOAT64, logits.getDataType());
                report(io + " logits", logits, ref.get("logits"), 1e-6);
                for (int i = 1; i <= steps; i++) {
                    report(io + " state." + i, out.get(i), ref.get("state." + i), 1e-6);
                }
                NDArray target = ref.get("target");
                NDArray loss =
                        logits.logSoftmax(1)
                                .mul(target.oneHot(classes, DataType.FLOAT64))
                                .sum(new int[] {1})
                                .mean()
                                .neg();
                report(io + " loss", loss.reshape(1), ref.get("loss"), 1e-6);
                gc.backward(loss);
            }
            int grads = 0;
            int running = 0;
            for (NDArray want : ref) {
                String name = want.getName();
                if (name.startsWith("grad.")) {
                    NDArray grad = params.get(name.substring(5)).getArray().getGradient();
                    report(io + " " + name, grad, want, 1e-6);
                    grads++;
                } else if (name.startsWith("running_")) {
                    String[] kindAndModule = name.split("\\.", 2);
                    String key = kindAndModule[1] + "." + kindAndModule[0];
                    report(io + " " + name, params.get(key).getArray(), want, 1e-6);
                    running++;
                }
            }
            assertTrue(
                    grads >= 5 && running >= 6,
                    "at least 5 gradients and 6 running statistics, got " + grads + ", " + running);
        }
    }
}
