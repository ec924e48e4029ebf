package dfbmodels.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNet50;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * README.md's "Start from a pretrained backbone" runs as written: the Java lines of its snippet are
 * the lines this test runs (checked against this file's source), on a torchvision resnet50
 * state_dict (seeded values, rebuilt from the committed manifest) in place of the exported one.
 */
class ReadmeBackboneTest {

    private static final Path BASE = Paths.get(System.getProperty("basedir", "."));
    private static final String SECTION = "## Start from a pretrained backbone";
    private static final String PATH_LINE = "Path weights = Paths.get(\"resnet50.safetensors\");";

    @Test
    void theReadmeLinesLoadAResnet50Backbone() throws Exception {
        List<String> snippet = readmeSnippet();
        assertEquals(PATH_LINE, snippet.get(0));
        String source =
                Files.readString(
                        BASE.resolve("src/test/java/dfbmodels/io/ReadmeBackboneTest.java"));
        String rest = String.join("", snippet.subList(1, snippet.size()));
        assertTrue(
                squash(source)
                        .contains(squash("Path weights = Backbones.file(\"resnet50\");" + rest)),
                "this test runs the README's lines:\n" + String.join("\n", snippet));

        try (NDManager manager = NDManager.newBaseManager()) {
            Path weights = Backbones.file("resnet50");
            FeedbackBlock net = ResNet50.builder().setNumClasses(10).build();
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 224, 224));
            LoadReport report =
                    TorchWeights.loadBackbone(
                            net, weights, BackboneOptions.builder().optFreeze(true).build());

            assertEquals(
                    "torchvision resnet50 (Bottleneck [3, 4, 6, 3], 3 input channels)",
                    report.backbone());
            assertEquals(213, report.loaded().size());
            assertEquals(54, report.sliced().size());
            assertEquals(53, report.skipped().size()); // num_batches_tracked
            assertEquals(8, report.untouched().size()); // the state op's and GroupNorms'
            // copied whole but the running statistics: 41 convolutions, 43 BatchNorms x 2
            assertEquals(127, report.frozen().size());
            for (String k : report.frozen()) {
                assertTrue(!TorchNames.of(net).get(k).requiresGradient(), k);
            }
        }
    }

    /** The Java code block of the section, one statement per element, indentation removed. */
    private static List<String> readmeSnippet() throws Exception {
        List<String> lines = Files.readAllLines(BASE.resolve("README.md"));
        int i = lines.indexOf(SECTION);
        assertTrue(i >= 0, "README.md has a section " + SECTION);
        while (!lines.get(i).equals("```java")) {
            i++;
        }
        int end = lines.subList(i + 1, lines.size()).indexOf("```") + i + 1;
        return lines.subList(i + 1, end).stream().map(String::strip).toList();
    }

    private static String squash(String code) {
        return code.replaceAll("\\s+", "");
    }
}
