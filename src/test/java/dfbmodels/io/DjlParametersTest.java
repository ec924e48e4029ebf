package dfbmodels.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.DeepLabV3Plus;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNet34;
import dfbmodels.models.ResNet50;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code Model.load} of DJL's own parameter files checks them against the model first. */
class DjlParametersTest {

    private static final Shape INPUT = new Shape(1, 3, 32, 32);

    @TempDir Path tmp;

    private static FeedbackBlock resnet18(int fb) {
        return ResNet18.builder().setNumClasses(10).optFbFilters(fb).optIterations(2).build();
    }

    /**
     * Initialises a model and saves it with Model.save, as "saved-0000.params" in dir; returns its
     * parameter values by key.
     */
    private static Map<String, float[]> save(FeedbackBlock block, Path dir) throws Exception {
        try (Model model = Model.newInstance("saved")) {
            block.initialize(model.getNDManager(), DataType.FLOAT32, INPUT);
            model.setBlock(block);
            model.save(dir, "saved");
            return values(block);
        }
    }

    private static Map<String, float[]> values(FeedbackBlock block) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> p : TorchNames.of(block).entrySet()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    private static void assertSameValues(Map<String, float[]> want, Map<String, float[]> got) {
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, float[]> w : want.entrySet()) {
            assertArrayEquals(w.getValue(), got.get(w.getKey()), w.getKey());
        }
    }

    private static Map<String, NDArray> copies(FeedbackBlock block, NDManager m) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> p : TorchNames.of(block).entrySet()) {
            NDArray copy = p.getValue().getArray().duplicate();
            copy.attach(m);
            out.put(p.getKey(), copy);
        }
        return out;
    }

    private static MalformedModelException loadFails(FeedbackBlock block, Path dir) {
        return assertThrows(
                MalformedModelException.class,
                () -> {
                    try (Model model = Model.newInstance("saved")) {
                        model.setBlock(block);
                        model.load(dir, "saved");
                    }
                });
    }

    @Test
    void anotherConfigurationFailsAtLoadNamingEveryShape() throws Exception {
        // the case: saved with fbFilters 8, loaded into fbFilters 16, used to load and
        // fail at the first forward ("shape '[1, 16, 1, 1]' is invalid for input of size 8")
        save(resnet18(8), tmp);
        StringBuilder layer4 = new StringBuilder();
        for (String block : List.of("layer4.0.", "layer4.1.")) {
            layer4.append(
                    String.format(
                            "%1$sconv1.weight: expected (528, %2$d, 3, 3), found (520, %2$d, 3, 3)%n",
                            block, block.equals("layer4.0.") ? 256 : 528));
            if (block.equals("layer4.1.")) {
                layer4.replace(
                        layer4.lastIndexOf("found (520, 528"),
                        layer4.lastIndexOf("found (520, 528") + 15,
                        "found (520, 520");
            }
            for (String bn : List.of("bn1.", "bn2.")) {
                if (bn.equals("bn2.")) {
                    layer4.append(
                            block
                                    + "conv2.weight: expected (528, 528, 3, 3), found (520, 520, 3,"
                                    + " 3)\n");
                }
                for (String p : List.of("weight", "bias", "running_mean", "running_var")) {
                    layer4.append(block + bn + p + ": expected (528), found (520)\n");
                }
            }
            if (block.equals("layer4.0.")) {
                layer4.append(
                        "layer4.0.downsample.0.weight: expected (528, 256, 1, 1), found (520, 256,"
                                + " 1, 1)\n");
                for (String p : List.of("weight", "bias", "running_mean", "running_var")) {
                    layer4.append("layer4.0.downsample.1." + p + ": expected (528), found (520)\n");
                }
            }
        }
        String expected =
                ("the saved parameters do not fit this model (saved from another configuration?):\n"
                                + "  shape mismatches (33):\n"
                                + "layer1.0.conv1.weight: expected (64, 80, 3, 3), found (64, 72, 3,"
                                + " 3)\n"
                                + "layer1.0.downsample.0.weight: expected (64, 80, 1, 1), found (64,"
                                + " 72, 1, 1)\n"
                                + layer4
                                + "error_head.Q: expected (528, 528), found (520, 520)\n"
                                + "error_head.S: expected (528), found (520)\n"
                                + "layernorm_error.weight: expected (528), found (520)\n"
                                + "layernorm_error.bias: expected (528), found (520)\n"
                                + "layernorm_input.weight: expected (16), found (8)\n"
                                + "layernorm_input.bias: expected (16), found (8)")
                        .replaceAll("\n(?!  shape)", "\n    ");
        // initialised: the model keeps its values
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock fb16 = resnet18(16);
            fb16.initialize(m, DataType.FLOAT32, INPUT);
            Map<String, float[]> before = values(fb16);
            assertEquals(expected, loadFails(fb16, tmp).getMessage());
            assertSameValues(before, values(fb16));
        }
        // not initialised (DJL's Model.load is often called on a fresh block): the shapes come
        // from initialising on the file's input shape; the same error, and the block is left
        // uninitialised
        FeedbackBlock fresh = resnet18(16);
        assertEquals(expected, loadFails(fresh, tmp).getMessage());
        assertFalse(fresh.isInitialized());
        for (Parameter p : fresh.getParameters().values()) {
            assertFalse(p.isInitialized(), p.getName());
        }
    }

    private static long size(FeedbackBlock block) {
        try (NDManager m = NDManager.newBaseManager()) {
            block.initialize(m, DataType.FLOAT32, INPUT);
            long n = 0;
            for (Parameter p : TorchNames.of(block).values()) {
                n += p.getArray().size();
            }
            return n;
        }
    }

    @Test
    void anotherArchitectureIsNamedAsSuch() throws Exception {
        // the issue's case: ResNet18 parameters into a ResNet34 used to say "expected version 1,
        // got 3"
        save(resnet18(8), tmp);
        String expected =
                String.format(
                        Locale.ROOT,
                        "the saved parameters are of another architecture than this model:\n"
                                + "  at layer1.2 (BasicBlock): the model has a BasicBlock (format"
                                + " version 1) there, the file a block of format version 3\n"
                                + "  the file holds 115 parameters (%,d values), the model 195"
                                + " (%,d values)\n"
                                + "  the first parameter that differs is #31: the model's"
                                + " layer1.2.conv1.weight (64, 64, 3, 3), the file's 'weight'"
                                + " (128, 64, 3, 3)",
                        size(resnet18(8)),
                        size(ResNet34.builder().setNumClasses(10).optFbFilters(8).build()));
        FeedbackBlock fresh = ResNet34.builder().setNumClasses(10).optFbFilters(8).build();
        assertEquals(expected, loadFails(fresh, tmp).getMessage());
        assertFalse(fresh.isInitialized());
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock initialised =
                    ResNet34.builder().setNumClasses(10).optFbFilters(8).build();
            initialised.initialize(m, DataType.FLOAT32, INPUT);
            Map<String, float[]> before = values(initialised);
            assertEquals(expected, loadFails(initialised, tmp).getMessage());
            assertSameValues(before, values(initialised));
        }
        // the other way round, ResNet34 into ResNet18: the file has a block where the model ends
        Path bigger = Files.createDirectories(tmp.resolve("resnet34"));
        save(ResNet34.builder().setNumClasses(10).optFbFilters(8).build(), bigger);
        assertEquals(
                String.format(
                        Locale.ROOT,
                        "the saved parameters are of another architecture than this model:\n"
                                + "  at layer2 (SequentialBlock): the model has a SequentialBlock"
                                + " (format version 3) there, the file a block of format version"
                                + " 1\n"
                                + "  the file holds 195 parameters (%,d values), the model 115"
                                + " (%,d values)\n"
                                + "  the first parameter that differs is #31: the model's"
                                + " layer2.0.conv1.weight (128, 64, 3, 3), the file's 'weight'"
                                + " (64, 64, 3, 3)",
                        size(ResNet34.builder().setNumClasses(10).optFbFilters(8).build()),
                        size(resnet18(8))),
                loadFails(resnet18(8), bigger).getMessage());
    }

    @Test
    void aTruncatedFileFailsAndLoadsNothing() throws Exception {
        save(resnet18(8), tmp);
        Path file = tmp.resolve("saved-0000.params");
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length / 2));
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = resnet18(8);
            model.initialize(m, DataType.FLOAT32, INPUT);
            Map<String, float[]> before = values(model);
            MalformedModelException e = loadFails(model, tmp);
            assertTrue(
                    e.getMessage()
                            .startsWith(
                                    "the saved parameters are of another architecture than this"
                                            + " model:\n  at layer4.0.conv2 (Conv2d): the file"
                                            + " ends (truncated, or a smaller model)\n  the file"
                                            + " holds 85 parameters"),
                    e.getMessage());
            assertTrue(
                    e.getMessage()
                            .endsWith("the first 85 parameters agree; then the model has 30 more"),
                    e.getMessage());
            assertSameValues(before, values(model));
        }
    }

    @Test
    void everyModelRoundTripsThroughModelSaveAndLoad() throws Exception {
        Map<String, Supplier<FeedbackBlock>> models = new LinkedHashMap<>();
        models.put("resnet50", () -> ResNet50.builder().setNumClasses(3).optFbFilters(2).build());
        models.put(
                "deeplab",
                () -> DeepLabV3Plus.builder().setNumClasses(3).optClassFilters(16).build());
        for (Map.Entry<String, Supplier<FeedbackBlock>> model : models.entrySet()) {
            Path dir = Files.createDirectories(tmp.resolve(model.getKey()));
            Map<String, float[]> saved = save(model.getValue().get(), dir);
            try (Model loaded = Model.newInstance("saved")) {
                FeedbackBlock block = model.getValue().get();
                loaded.setBlock(block);
                loaded.load(dir, "saved");
                assertTrue(block.isInitialized());
                assertSameValues(saved, values(block));
            }
        }
    }
}
