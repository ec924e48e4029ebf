package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.io.TorchNames;
import dfbmodels.nn.GroupNorm;
import dfbmodels.state.StateExpDecay;
import dfbmodels.state.TimeFactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The defaults the docs state are the builders' defaults: the table "Defaults" of docs/porting.md
 * is read and compared with models built from their required settings only; every {@code (default
 * ...)} in the builders' javadoc, and every {@code `optX` (default ...)} and {@code (defaults:
 * ...)} in README.md and docs/, is compared with the table.
 */
class DefaultsTest {

    private static final Path BASE = Paths.get(System.getProperty("basedir", "."));

    /** The table: setting, then builder (as in the column header) to the stated value. */
    private static Map<String, Map<String, String>> table;

    @BeforeAll
    static void readTable() throws IOException {
        table = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(BASE.resolve("docs/porting.md"));
        int start = lines.indexOf("## Defaults");
        assertTrue(start >= 0, "docs/porting.md has a section \"## Defaults\"");
        List<List<String>> builders = null;
        for (String line : lines.subList(start + 1, lines.size())) {
            if (line.startsWith("## ")) {
                break;
            }
            if (!line.startsWith("|") || line.startsWith("| ---")) {
                continue;
            }
            List<String> cells = cells(line);
            if (builders == null) {
                builders = new ArrayList<>();
                for (String header : cells.subList(2, cells.size())) {
                    List<String> names = new ArrayList<>();
                    Matcher m = Pattern.compile("`(\\w+)`").matcher(header);
                    while (m.find()) {
                        names.add(m.group(1));
                    }
                    builders.add(names);
                }
                continue;
            }
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 2; c < cells.size(); c++) {
                for (String builder : builders.get(c - 2)) {
                    row.put(builder, cells.get(c));
                }
            }
            table.put(cells.get(0), row);
        }
        assertTrue(table.size() >= 10, "the table has a row per setting, found " + table.keySet());
    }

    private static List<String> cells(String line) {
        List<String> out = new ArrayList<>();
        for (String cell : line.substring(1, line.lastIndexOf('|')).split("\\|")) {
            out.add(cell.trim());
        }
        return out;
    }

    // ---- the models, built from their required settings only ----------------------------------

    private static final Map<String, Supplier<FeedbackBlock>> BUILDERS = new LinkedHashMap<>();

    static {
        BUILDERS.put("ResNet18", () -> ResNet18.builder().setNumClasses(3).build());
        BUILDERS.put("ResNet34", () -> ResNet34.builder().setNumClasses(3).build());
        BUILDERS.put("ResNet50", () -> ResNet50.builder().setNumClasses(3).build());
        BUILDERS.put(
                "FeedbackResNet",
                () ->
                        FeedbackResNet.builder()
                                .setNumClasses(3)
                                .setBlockType(ResidualBlockType.BASIC)
                                .setLayers(1, 1, 1, 1)
                                .build());
        BUILDERS.put("DeepLabV3Plus", () -> DeepLabV3Plus.builder().setNumClasses(3).build());
        BUILDERS.put("FeedbackBlock", () -> loop(8, 8).build());
    }

    // the smallest FeedbackBlock: 1x1 convolutions, readout = average of the class channels
    private static FeedbackBlock.Builder loop(int classChannels, int feedbackChannels) {
        FeedbackBlock.Builder b =
                FeedbackBlock.builder()
                        .setFrontend(conv(4))
                        .setBody(conv(classChannels + feedbackChannels))
                        .setReadout(
                                new SequentialBlock()
                                        .add(Pool.globalAvgPool2dBlock())
                                        .add(Blocks.batchFlattenBlock()));
        if (classChannels > 0) {
            b.setClassChannels(classChannels);
        }
        if (feedbackChannels > 0) {
            b.setFeedbackChannels(feedbackChannels);
        }
        return b;
    }

    private static Block conv(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(filters).build();
    }

    /** What building without the setting does: it must fail, naming it. */
    private static void assertRequired(String builder, String setting) {
        Runnable build;
        switch (builder + "." + setting) {
            case "ResNet18.numClasses":
                build = () -> ResNet18.builder().build();
                break;
            case "ResNet34.numClasses":
                build = () -> ResNet34.builder().build();
                break;
            case "ResNet50.numClasses":
                build = () -> ResNet50.builder().build();
                break;
            case "FeedbackResNet.numClasses":
                build =
                        () ->
                                FeedbackResNet.builder()
                                        .setBlockType(ResidualBlockType.BASIC)
                                        .setLayers(1, 1, 1, 1)
                                        .build();
                break;
            case "DeepLabV3Plus.numClasses":
                build = () -> DeepLabV3Plus.builder().build();
                break;
            case "FeedbackBlock.fbFilters":
                build = () -> loop(8, 0).build();
                break;
            case "FeedbackBlock.classFilters":
                build = () -> loop(0, 8).build();
                break;
            default:
                throw new AssertionError("no check for required " + setting + " of " + builder);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::run);
        String name = setting.equals("fbFilters") ? "feedbackChannels" : setting;
        name =
                builder.equals("FeedbackBlock") && name.equals("classFilters")
                        ? "classChannels"
                        : name;
        assertTrue(e.getMessage().contains(name), builder + ": " + e.getMessage());
    }

    /** Reads a setting from a built and initialised model, as the table would state it. */
    private static String actual(String setting, String builder, FeedbackBlock model, NDManager m) {
        switch (setting) {
            case "fbFilters":
                // counted before the block expansion
                int expansion = builder.equals("ResNet50") ? 4 : 1;
                return String.valueOf(model.getFeedbackChannels() / expansion);
            case "classFilters":
                return String.valueOf(model.getClassChannels());
            case "encoder":
                return encoder(model);
            case "normGroups":
                {
                    int error = groupNorm(model, "layernorm_error").getNumGroups();
                    int input = groupNorm(model, "layernorm_input").getNumGroups();
                    if (error == model.getStateChannels()
                            && input == model.getFeedbackChannels()
                            && error != input) {
                        return "one per channel";
                    }
                    return error == input ? String.valueOf(error) : error + " and " + input;
                }
            case "iterations":
                return String.valueOf(model.getIterations());
            case "atol":
                return String.valueOf(model.getAtol());
            case "tau":
            case "alpha":
                return String.valueOf(
                        model.getStateOp().getParameters().get(setting).getArray().getFloat());
            case "inChannels":
                {
                    List<Integer> accepted = new ArrayList<>();
                    for (int c = 1; c <= 4; c++) {
                        if (accepts(model, new Shape(1, c, 64, 64))) {
                            accepted.add(c);
                        }
                    }
                    if (accepted.size() == 4) {
                        return "not checked";
                    }
                    return accepted.size() == 1 ? String.valueOf(accepted.get(0)) : "" + accepted;
                }
            case "sizeMultiple":
                for (int side = 1; ; side++) {
                    if (accepts(model, new Shape(1, inChannels(model), side, side))) {
                        return String.valueOf(side);
                    }
                }
            case "initialStateStd":
                // T = 0 returns the readout of the initial state: 0 exactly for the zero state
                return forwardT0(model, m, false).abs().max().getFloat() == 0f ? "0" : "not 0";
            case "checkFinite":
                try {
                    forwardT0(model, m, true);
                    return "false";
                } catch (IllegalArgumentException e) {
                    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
                    return "true";
                }
            case "uniformShortcut":
                return String.valueOf(((StateExpDecay) model.getStateOp()).isUniformShortcut());
            case "feedback":
                return String.valueOf(model.isFeedback());
            case "stateOperator":
                return model.getStateOp().getClass().getSimpleName();
            case "timeFactor":
                return model.getTimeFactor() == TimeFactor.NONE ? "NONE" : "not NONE";
            case "stepReadouts":
                return String.valueOf(model.isStepReadouts());
            case "stem":
                {
                    // the ImageNet stem ends in a max-pool; the CIFAR stem has none
                    boolean pooled =
                            model.getFrontend().getChildren().keys().stream()
                                    .anyMatch(k -> k.endsWith("maxpool"));
                    return pooled ? "IMAGENET" : "CIFAR";
                }
            case "width":
                // the base width is the number of filters of the stem's conv1
                for (Pair<String, Block> child : model.getFrontend().getChildren()) {
                    if (child.getKey().endsWith("conv1")) {
                        return String.valueOf(((Conv2d) child.getValue()).getFilters());
                    }
                }
                throw new AssertionError("no conv1 in the frontend");
            default:
                throw new AssertionError("DefaultsTest cannot read the setting " + setting);
        }
    }

    private static GroupNorm groupNorm(FeedbackBlock model, String name) {
        for (Pair<String, Block> child : model.getChildren()) {
            if (child.getKey().endsWith(name)) {
                return (GroupNorm) child.getValue();
            }
        }
        throw new AssertionError("no child " + name);
    }

    private static String encoder(FeedbackBlock model) {
        Map<Integer, Integer> blocks = new TreeMap<>();
        boolean bottleneck = false;
        Pattern p = Pattern.compile("encoder\\.layer(\\d)\\.(\\d+)\\.(\\w+)\\..*");
        for (String name : TorchNames.of(model).keySet()) {
            Matcher m = p.matcher(name);
            if (m.matches()) {
                blocks.merge(
                        Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)) + 1, Math::max);
                bottleneck |= m.group(3).equals("conv3");
            }
        }
        StringBuilder s = new StringBuilder(bottleneck ? "BOTTLENECK" : "BASIC");
        blocks.values().forEach(n -> s.append(", ").append(n));
        return s.toString();
    }

    private static boolean accepts(FeedbackBlock model, Shape shape) {
        try {
            model.checkInput(shape);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int inChannels(FeedbackBlock model) {
        for (int c = 1; ; c++) {
            if (accepts(model, new Shape(1, c, 64, 64))) {
                return c;
            }
        }
    }

    private static NDArray forwardT0(FeedbackBlock model, NDManager m, boolean nan) {
        NDArray x = m.zeros(new Shape(1, inChannels(model), 32, 32));
        if (nan) {
            x = x.add(Float.NaN);
        }
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, 0);
        return model.forward(new ParameterStore(m, false), new NDList(x), false, params).head();
    }

    // ---- the checks -----------------------------------------------------------------------------

    @Test
    void everyDefaultInTheTableIsTheBuildersDefault() {
        List<String> compared = new ArrayList<>();
        for (Map.Entry<String, Supplier<FeedbackBlock>> builder : BUILDERS.entrySet()) {
            try (NDManager m = NDManager.newBaseManager()) {
                FeedbackBlock model = builder.getValue().get();
                model.initialize(m, DataType.FLOAT32, new Shape(1, inChannels(model), 32, 32));
                for (Map.Entry<String, Map<String, String>> row : table.entrySet()) {
                    String setting = row.getKey();
                    String stated = row.getValue().get(builder.getKey());
                    assertTrue(stated != null, "no column for " + builder.getKey());
                    if (stated.equals("—")) {
                        continue;
                    }
                    if (stated.equals("required")) {
                        assertRequired(builder.getKey(), setting);
                    } else {
                        String got = actual(setting, builder.getKey(), model, m);
                        assertTrue(
                                same(stated, got),
                                builder.getKey()
                                        + " "
                                        + setting
                                        + ": docs "
                                        + stated
                                        + ", code "
                                        + got);
                    }
                    compared.add(builder.getKey() + "." + setting);
                }
            }
        }
        System.out.println("defaults checked against docs/porting.md: " + compared.size());
        assertTrue(compared.contains("DeepLabV3Plus.fbFilters"));
    }

    private static final Pattern JAVADOC_DEFAULT =
            Pattern.compile(
                    "/\\*\\*((?:(?!\\*/).)*?)\\(default:? ((?:(?!\\*/).)*?)[;:)](?:(?!\\*/).)*\\*/"
                            + "\\s*public \\w+ (opt\\w+)\\(",
                    Pattern.DOTALL);

    @Test
    void everyDefaultInTheBuildersJavadocIsInTheTable() throws IOException {
        Map<String, List<String>> files = new LinkedHashMap<>();
        List<String> resnets = List.of("ResNet18", "ResNet34", "ResNet50", "FeedbackResNet");
        List<String> models = new ArrayList<>(resnets);
        models.add("DeepLabV3Plus");
        files.put("src/main/java/dfbmodels/models/FeedbackModelBuilder.java", models);
        files.put("src/main/java/dfbmodels/models/FeedbackResNet.java", resnets);
        files.put("src/main/java/dfbmodels/models/DeepLabV3Plus.java", List.of("DeepLabV3Plus"));
        files.put("src/main/java/dfbmodels/FeedbackBlock.java", List.of("FeedbackBlock"));
        int found = 0;
        for (Map.Entry<String, List<String>> file : files.entrySet()) {
            String source = Files.readString(BASE.resolve(file.getKey()));
            Matcher m = JAVADOC_DEFAULT.matcher(source);
            while (m.find()) {
                String method = m.group(3);
                String stated = m.group(2).replaceAll("\\s*\\*\\s*", " ").trim();
                String setting = setting(method);
                for (String builder : file.getValue()) {
                    String inTable = table.getOrDefault(setting, Map.of()).get(builder);
                    assertTrue(
                            inTable != null && same(inTable, stated),
                            file.getKey()
                                    + " "
                                    + method
                                    + " says default "
                                    + stated
                                    + "; docs/porting.md says "
                                    + inTable
                                    + " for "
                                    + builder);
                }
                found++;
            }
        }
        assertTrue(found >= 15, "javadoc defaults found: " + found);
    }

    private static final Pattern PROSE_OPT_DEFAULT =
            Pattern.compile("`(opt\\w+)`[^`.]{0,20}\\(default ([^)]+)\\)");
    private static final Pattern PROSE_DEFAULTS = Pattern.compile("\\(defaults: ([^)]+)\\)");

    @Test
    void everyDefaultStatedInTheMarkdownIsInTheTable() throws IOException {
        List<Path> docs = new ArrayList<>();
        docs.add(BASE.resolve("README.md"));
        try (Stream<Path> s = Files.list(BASE.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        int found = 0;
        for (Path doc : docs) {
            for (String line : Files.readAllLines(doc)) {
                Matcher m = PROSE_OPT_DEFAULT.matcher(line);
                while (m.find()) {
                    String setting = setting(m.group(1));
                    Map<String, String> row = table.get(setting);
                    assertTrue(row != null, doc + ": no table row for " + m.group(1));
                    assertTrue(
                            row.values().stream().anyMatch(v -> same(v, m.group(2))),
                            doc + ": " + m.group() + " but docs/porting.md says " + row);
                    found++;
                }
                Matcher d = PROSE_DEFAULTS.matcher(line);
                while (d.find()) {
                    String builder = builderNamedIn(line);
                    for (String item : d.group(1).split(";")) {
                        String[] kv = item.trim().split(" ", 2);
                        Map<String, String> row = table.get(kv[0]);
                        assertTrue(row != null, doc + ": no table row for " + kv[0]);
                        assertTrue(
                                same(row.get(builder), kv[1]),
                                doc
                                        + ": "
                                        + builder
                                        + " "
                                        + item.trim()
                                        + " but docs/porting.md says "
                                        + row.get(builder));
                        found++;
                    }
                }
            }
        }
        assertTrue(found >= 4, "defaults found in the markdown: " + found);
    }

    private static String builderNamedIn(String line) {
        String found = null;
        for (String builder : BUILDERS.keySet()) {
            String prose = builder.equals("DeepLabV3Plus") ? "DeepLabV3+" : builder;
            if (line.contains(builder) || line.contains(prose)) {
                assertTrue(found == null, "\"" + line + "\" names two models");
                found = builder;
            }
        }
        if (found == null) {
            fail("\"" + line + "\" states defaults without naming the model");
        }
        return found;
    }

    private static String setting(String method) {
        switch (method) {
            case "optErrorGroups":
            case "optFeedbackGroups":
                return "normGroups";
            default:
                return Character.toLowerCase(method.charAt(3)) + method.substring(4);
        }
    }

    /** Compares a stated and an actual value: numbers by value, on/off as true/false. */
    static boolean same(String stated, String actual) {
        String a = normalise(stated);
        String b = normalise(actual);
        if (a.equals(b)) {
            return true;
        }
        try {
            return Double.parseDouble(a) == Double.parseDouble(b)
                    || (float) Double.parseDouble(a) == (float) Double.parseDouble(b);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String normalise(String v) {
        String s =
                v.replaceAll("\\{@link \\w*#", "")
                        .replace("{@code", "")
                        .replace("}", "")
                        .replace("`", "")
                        .trim()
                        .toLowerCase();
        switch (s) {
            case "on":
                return "true";
            case "off":
                return "false";
            default:
                return s;
        }
    }

    @Test
    void theComparisonIsStrict() {
        assertTrue(same("0.01", "1e-2"));
        assertTrue(same("0.01", String.valueOf(1e-2f)));
        assertTrue(same("{@code true}", "true"));
        assertTrue(same("on", "true"));
        assertFalse(same("8", "2"));
        assertFalse(same("one per channel", "8"));
        assertEquals("fbFilters", setting("optFbFilters"));
    }
}
