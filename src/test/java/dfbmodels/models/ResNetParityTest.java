package dfbmodels.models;

import static dfbmodels.Fixtures.report;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import dfbmodels.io.TorchNames;
import dfbmodels.io.TorchWeights;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parity with the PyTorch original on {@code ../shared/fixtures/resnet18_fb8_32.*}. */
class ResNetParityTest {

    private static final String WEIGHTS = "resnet18_fb8_32.weights.safetensors";

    private static FeedbackBlock resnet18(
            NDManager m, DataType type, NDArray input, boolean uniformShortcut) throws Exception {
        FeedbackBlock model =
                ResNet18.builder()
                        .setNumClasses(10)
                        .optFbFilters(8)
                        .optIterations(3)
                        .optAtol(0f)
                        .optUniformShortcut(uniformShortcut)
                        .build();
        model.initialize(m, type, input.getShape());
        TorchWeights.load(model, Fixtures.dir().resolve(WEIGHTS));
        return model;
    }

    private static PairList<String, Object> returnStates() {
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.RETURN_STATES, true);
        return params;
    }

    @Test
    void evalFloat32MatchesLogitsAndEveryState() throws Exception {
        String io = "resnet18_fb8_32.eval.io.safetensors";
        Map<String, String> meta = Fixtures.metadata(io);
        assertEquals("eval", meta.get("mode"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = Fixtures.load(m, io);
            NDArray input = ref.get("input");
            FeedbackBlock model = resnet18(m, DataType.FLOAT32, input, true);
            NDList out =
                    model.forward(
                            new ParameterStore(m, false), new NDList(input), false, returnStates());
            assertEquals(4, out.size());
            report("logits", out.get(0), ref.get("logits"), 1e-4);
            for (int i = 1; i <= 3; i++) {
                report("state." + i, out.get(i), ref.get("state." + i), 1e-4);
            }
        }
    }

    // S is uniform here, so the shortcut applies; without it, training runs the QR and both
    // products as the original
    @ParameterizedTest(name = "uniformShortcut={0}")
    @ValueSource(booleans = {true, false})
    void trainFloat64MatchesLossGradientsAndRunningStatistics(boolean uniformShortcut)
            throws Exception {
        String io = "resnet18_fb8_32.train.io.safetensors";
        assertEquals("float64", Fixtures.metadata(io).get("dtype"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = Fixtures.load(m, io);
            NDArray input = ref.get("input");
            FeedbackBlock model = resnet18(m, DataType.FLOAT64, input, uniformShortcut);
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
                report("logits", logits, ref.get("logits"), 1e-6);
                for (int i = 1; i <= 3; i++) {
                    report("state." + i, out.get(i), ref.get("state." + i), 1e-6);
                }
                NDArray target = ref.get("target");
                NDArray loss =
                        logits.logSoftmax(1)
                                .mul(target.oneHot(10, DataType.FLOAT64))
                                .sum(new int[] {1})
                                .mean()
                                .neg();
                report("loss", loss.reshape(1), ref.get("loss"), 1e-6);
                gc.backward(loss);
            }
            int compared = 0;
            for (NDArray want : ref) {
                String name = want.getName();
                if (name.startsWith("grad.")) {
                    NDArray grad = params.get(name.substring(5)).getArray().getGradient();
                    report(name, grad, want, 1e-6);
                    compared++;
                } else if (name.startsWith("running_")) {
                    String[] kindAndModule = name.split("\\.", 2);
                    String key = kindAndModule[1] + "." + kindAndModule[0];
                    report(name, params.get(key).getArray(), want, 1e-6);
                    compared++;
                }
            }
            assertEquals(11, compared, "5 gradients and 6 running statistics");
        }
    }
}
