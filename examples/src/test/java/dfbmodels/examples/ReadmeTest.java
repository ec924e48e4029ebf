package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ReadmeTest {

    private static final Path README = Paths.get("..", "README.md");
    private static final Path EXAMPLES_README = Paths.get("README.md");

    private static String normalise(String code) {
        return Arrays.stream(code.split("\n"))
                .map(String::strip)
                .filter(l -> !l.isEmpty())
                .collect(Collectors.joining("\n"));
    }

    /** The {@code --options} named in a text. */
    private static Set<String> options(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w-])--[a-z][a-z-]*").matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    @Test
    void readmeShowsTheQuickStart() throws IOException {
        String source =
                Files.readString(Paths.get("src/main/java/dfbmodels/examples/QuickStart.java"));
        String snippet =
                source.substring(
                        source.indexOf("// README:begin") + "// README:begin".length(),
                        source.indexOf("// README:end"));
        String text = Files.readString(README);
        assertTrue(
                normalise(text).contains(normalise(snippet)),
                "README.md's training example differs from QuickStart.java");
        // 45: the model takes one line per setting (the small-input stem and width included)
        assertTrue(snippet.strip().split("\n").length <= 45, "keep the example short");
    }

    @Test
    void examplesReadmeShowsTheHelpTextVerbatim() throws IOException {
        String text = Files.readString(EXAMPLES_README);
        Map<String, String> usages =
                Map.of(
                        "TrainMnist", Options.USAGE,
                        "Robustness", RobustnessOptions.USAGE,
                        "Polygons", PolygonsOptions.USAGE,
                        "Benchmark", BenchmarkOptions.USAGE,
                        "PredictorBenchmark", PredictorBenchmark.USAGE);
        usages.forEach(
                (program, usage) ->
                        assertTrue(
                                text.contains("```\n" + usage + "\n```"),
                                "examples/README.md must show " + program + " --help verbatim"));
    }

    @Test
    void readmeNamesEveryOptionOfTheExampleAndNoOther() throws IOException {
        String text = Files.readString(README);
        int start = text.indexOf("## Example: MNIST / Fashion-MNIST");
        int end = text.indexOf("\n## ", start + 1);
        assertTrue(start >= 0 && end > start, "README.md lacks its example section");
        Set<String> expected = options(Options.USAGE);
        expected.add("--help");
        assertEquals(expected, options(text.substring(start, end)));
    }

    @Test
    void readmeNamesEveryOptionOfRobustnessAndNoOther() throws IOException {
        String text = Files.readString(README);
        int start = text.indexOf("## Example: robustness and convergence");
        int end = text.indexOf("\n## ", start + 1);
        assertTrue(start >= 0 && end > start, "README.md lacks its robustness section");
        Set<String> expected = options(RobustnessOptions.USAGE);
        expected.add("--help");
        assertEquals(expected, options(text.substring(start, end)));
    }
}
