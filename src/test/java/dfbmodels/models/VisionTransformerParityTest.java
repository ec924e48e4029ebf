package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dfbmodels.FeedbackBlock;
import dfbmodels.Fixtures;
import dfbmodels.io.TorchNames;
import dfbmodels.nn.ConvolutionCheck;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The encoder with torchvision's weights gives torchvision's numbers: {@code
 * vit_encoder_32_p4_l2_d64.safetensors} (made by {@code shared/tools/make_vit_fixture.py} with
 * torchvision 0.14) holds a small torchvision {@code VisionTransformer}'s {@code state_dict} and
 * its encoder's input and outputs, eval mode, float32.
 */
class VisionTransformerParityTest {

    private static final String FIXTURE = "vit_encoder_32_p4_l2_d64.safetensors";
    private static final double TOL = 1e-4;

    // TODO(part 2 of issue #16): load with TorchWeights.loadBackbone once it exists; this maps
    // the fixture's keys onto TorchNames' keys by hand, which is what it is to do
    private static void assign(Parameter p, NDArray value) {
        NDArray target = p.getArray();
        assertEquals(target.getShape(), value.getShape(), p.getName());
        target.set(value.toType(target.getDataType(), false).toByteBuffer());
    }

    @Test
    void encoderWithTorchvisionWeightsGivesTorchvisionsTokens() throws Exception {
        Map<String, String> meta = Fixtures.metadata(FIXTURE);
        int image = Integer.parseInt(meta.get("image"));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new HashMap<>();
            for (NDArray a : Fixtures.load(m, FIXTURE)) {
                t.put(a.getName(), a);
            }
            FeedbackBlock model =
                    VisionTransformer.builder()
                            .setNumClasses(Integer.parseInt(meta.get("classes")))
                            .optImageSize(image)
                            .optPatchSize(Integer.parseInt(meta.get("patch")))
                            .optNumLayers(Integer.parseInt(meta.get("layers")))
                            .optHiddenDim(Integer.parseInt(meta.get("hidden")))
                            .optNumHeads(Integer.parseInt(meta.get("heads")))
                            .optMlpDim(Integer.parseInt(meta.get("mlp")))
                            .build();
            NDArray input = t.get("input");
            model.initialize(m, DataType.FLOAT32, input.getShape());

            // every encoder tensor of torchvision's state_dict has exactly one parameter, 1:1
            Block encoder = VisionTransformer.encoder(model);
            Map<String, Parameter> params = TorchNames.of(encoder);
            TreeSet<String> torchKeys = new TreeSet<>();
            for (String k : t.keySet()) {
                if (k.startsWith("encoder.layers.") || k.startsWith("encoder.ln.")) {
                    torchKeys.add(k);
                }
            }
            TreeSet<String> ours = new TreeSet<>();
            params.keySet().forEach(k -> ours.add("encoder." + k));
            assertEquals(torchKeys, ours);
            for (Map.Entry<String, Parameter> p : params.entrySet()) {
                assign(p.getValue(), t.get("encoder." + p.getKey()));
            }

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
            Map<String, Parameter> all = TorchNames.of(model);
            assign(all.get("conv_proj.weight"), t.get("conv_proj.weight"));
            assign(all.get("conv_proj.bias"), t.get("conv_proj.bias"));
            NDArray pos = t.get("encoder.pos_embedding").get(new NDIndex(":, 1:, :"));
            assign(all.get("pos_embedding"), pos);
            ConvolutionCheck.ensureCorrect(input);
            NDArray x0 = model.getFrontend().forward(ps, new NDList(input), false).head();
            int grid = image / Integer.parseInt(meta.get("patch"));
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
