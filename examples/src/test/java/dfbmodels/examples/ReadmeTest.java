package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ReadmeTest {

    private static String normalise(String code) {
        return Arrays.stream(code.split("\n"))
                .map(String::strip)
                .filter(l -> !l.isEmpty())
                .collect(Collectors.joining("\n"));
    }

    @Test
    void readmeShowsTheQuickStartThatCompiles() throws IOException {
        String source =
                Files.readString(Paths.get("src/main/java/dfbmodels/examples/QuickStart.java"));
        String snippet =
                source.substring(
                        source.indexOf("// README:begin") + "// README:begin".length(),
                        source.indexOf("// README:end"));
        Path readme = Paths.get("..", "README.md");
        String text = Files.readString(readme);
        assertTrue(
                normalise(text).contains(normalise(snippet)),
                "README.md's training example differs from QuickStart.java");
        assertTrue(snippet.split("\n").length <= 26, "keep the example short");
    }
}
