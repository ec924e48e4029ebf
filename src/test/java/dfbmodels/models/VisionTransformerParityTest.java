package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dfbmodels.FeedbackBlock;
import dfbmodels.Fixtures;
import dfbmodels.io.LoadReport;
import dfbmodels.io.TorchWeights;
import dfbmodels.nn.ConvolutionCheck;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The encoder with torchvision's weights gives torchvision's numbers: {@code
 * vit_encoder_32_p4_l2_d64.safetensors} (made by {@code shared/tools/make_vit_fixture.py} with
 * torchvision 0.14) holds a small torchvision {@code VisionTransformer}'s {@code state_dict} and
 * its encoder's input and outputs, eval mode, float32. The weights go in with {@link
 * TorchWeights#loadBackbone}, as a user's would.
 */
class VisionTransformerParityTest {

    private static final String FIXTURE = "vit_encoder_32_p4_l2_d64.safetensors";
    private static final double TOL = 1e-4;

    @Test
    void encoderWithTorchvisionWeightsGivesTorchvisionsTokens() throws Exception {
        Map<String, String> meta = Fixtures.metadata(FIXTURE);
        int image = Integer.parseInt(meta.get("image"));
        int patch = Integer.parseInt(meta.get("patch"));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new HashMap<>();
            for (NDArray a : Fixtures.load(m, FIXTURE)) {
                t.put(a.getName(), a);
            }
            FeedbackBlock model =
                    VisionTransformer.builder()
                            .setNumClasses(Integer.parseInt(meta.get("classes")))
                            .optImageSize(image)
                            .optPatchSize(patch)
                            .optNumLayers(Integer.parseInt(meta.get("layers")))
                            .optHiddenDim(Integer.parseInt(meta.get("hidden")))
                            .optNumHeads(Integer.parseInt(meta.get("heads")))
                            .optMlpDim(Integer.parseInt(meta.get("mlp")))
                            .build();
            NDArray input = t.get("input");
            model.initialize(m, DataType.FLOAT32, input.getShape());
            LoadReport report = TorchWeights.loadBackbone(model, Fixtures.path(FIXTURE));

            // every tensor of torchvision's state_dict has its place, 1:1, but for the class
            // token, its head and the position embedding's class-token row; the fixture's
            // inputs and outputs are no part of a state_dict
            TreeSet<String> stateDict = new TreeSet<>();
            for (String k : t.keySet()) {
                if (!k.startsWith("encoder_") && !k.equals("input") && !k.equals("logits")) {
                    stateDict.add(k);
                }
            }
            TreeSet<String> placed = new TreeSet<>(report.loaded());
            placed.add("encoder.pos_embedding");
            placed.addAll(List.of("class_token", "heads.head.weight", "heads.head.bias"));
            assertEquals(stateDict, placed);
            assertEquals(List.of("pos_embedding"), report.sliced());
            TreeSet<String> skipped = new TreeSet<>();
            for (LoadReport.Entry e : report.skipped()) {
                assertEquals(LoadReport.Outcome.SKIPPED, e.outcome());
                skipped.add(e.fileKey());
            }
            assertEquals(
                    new TreeSet<>(
                            List.of(
                                    "class_token",
                                    "heads.head.weight",
                                    "heads.head.bias",
                                    "input",
                                    "encoder_input",
                                    "encoder_layers_output",
                                    "encoder_output",
                                    "logits")),
                    skipped);

            Block encoder = VisionTransformer.encoder(model);
            ParameterStore ps = new ParameterStore(m, false);
            NDList tokens = new NDList(t.get("encoder_input"));
            NDArray out = encoder.forward(ps, tokens, false).head();
            Fixtures.report("ViT encoder output", out, t.get("encoder_output"), TOL);
            Block layers = encoder.getChildren().get("02layers");
            Fixtures.report(
                    "ViT encoder layers output",
                    layers.forward(ps, tokens, false).head(),
                    t.get("encoder_layers_output"),
                    TOL);

            // the frontend: conv_proj is torchvision's, pos_embedding is torchvision's without
            // the class token's row, laid out on the grid in torchvision's token order
            NDArray pos = t.get("encoder.pos_embedding").get(new NDIndex(":, 1:, :"));
            ConvolutionCheck.ensureCorrect(input);
            NDArray x0 = model.getFrontend().forward(ps, new NDList(input), false).head();
            int grid = image / patch;
            long d = pos.getShape().get(2);
            NDArray want =
                    t.get("encoder_input")
                            .add(pos)
                            .transpose(0, 2, 1)
                            .reshape(new Shape(input.getShape().get(0), d, grid, grid));
            Fixtures.report("ViT patch + position embedding", x0, want, TOL);
        }
    }
}
