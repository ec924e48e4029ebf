package dfbmodels.io;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dfbmodels.FeedbackBlock;
import dfbmodels.Fixtures;
import dfbmodels.models.ResNet18;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchWeightsTest {

    private static final String WEIGHTS = "resnet18_fb8_32.weights.safetensors";
    private static final Shape INPUT = new Shape(2, 3, 32, 32);

    @TempDir Path tmp;

    private static FeedbackBlock model(NDManager m, int fb) {
        FeedbackBlock model =
                ResNet18.builder().setNumClasses(10).optFbFilters(fb).optIterations(2).build();
        model.initialize(m, DataType.FLOAT32, INPUT);
        return model;
    }

    private static NDArray logits(FeedbackBlock model, NDManager m, NDArray x) {
        return model.forward(new ParameterStore(m, false), new NDList(x), false).head();
    }

    private static void write(NDList list, Path file, NDList.Encoding encoding) throws IOException {
        try (OutputStream os = Files.newOutputStream(file)) {
            list.encode(os, encoding);
        }
    }

    @Test
    void loadsEveryParameterOfTheOriginalsStateDict() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = model(m, 8);
            Path file = Fixtures.dir().resolve(WEIGHTS);
            TorchWeights.load(model, file);
            NDList ref = NDList.decode(m, Files.newInputStream(file));
            for (Map.Entry<String, Parameter> p : TorchNames.of(model).entrySet()) {
                NDArray want = ref.get(p.getKey());
                assertClose(
                        p.getKey(),
                        p.getValue().getArray(),
                        want.reshape(p.getValue().getShape()),
                        0);
            }
        }
    }

    @Test
    void float16NpzIsCastToTheModelsType() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = NDList.decode(m, Files.newInputStream(Fixtures.dir().resolve(WEIGHTS)));
            NDList half = new NDList();
            for (NDArray a : ref) {
                NDArray h = a.getDataType().isFloating() ? a.toType(DataType.FLOAT16, false) : a;
                h.setName(a.getName());
                half.add(h);
            }
            Path npz = tmp.resolve("weights.npz");
            write(half, npz, NDList.Encoding.NPZ);
            FeedbackBlock model = model(m, 8);
            TorchWeights.load(model, npz);
            NDArray q = TorchNames.of(model).get("error_head.Q").getArray();
            assertEquals(DataType.FLOAT32, q.getDataType());
            NDArray want =
                    ref.get("error_head.Q")
                            .toType(DataType.FLOAT16, false)
                            .toType(DataType.FLOAT32, false);
            assertClose("Q from float16", q, want, 0);
            assertTrue(
                    Fixtures.error(q, ref.get("error_head.Q")) > 0, "float16 rounding is visible");
        }
    }

    @Test
    void aliasKeysAloneAreEnough() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = NDList.decode(m, Files.newInputStream(Fixtures.dir().resolve(WEIGHTS)));
            NDList onlyAliases = new NDList();
            for (NDArray a : ref) {
                String n = a.getName();
                if (!n.startsWith("conv1.") && !n.startsWith("bn1.") && !n.startsWith("fc.")) {
                    onlyAliases.add(a);
                }
            }
            Path file = tmp.resolve("aliases.safetensors");
            write(onlyAliases, file, NDList.Encoding.SAFETENSORS);
            FeedbackBlock model = model(m, 8);
            TorchWeights.load(model, file);
            assertClose(
                    "fc.weight from classification_head.2.weight",
                    TorchNames.of(model).get("fc.weight").getArray(),
                    ref.get("classification_head.2.weight"),
                    0);
        }
    }

    @Test
    void strictLoadListsMissingUnexpectedAndMismatchedKeysAtOnce() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList ref = NDList.decode(m, Files.newInputStream(Fixtures.dir().resolve(WEIGHTS)));
            NDList edited = new NDList();
            for (NDArray a : ref) {
                String n = a.getName();
                if (n.equals("layer2.1.bn1.running_var")) {
                    continue;
                }
                if (n.equals("layer3.0.conv2.weight")) {
                    NDArray wrong = m.zeros(new Shape(256, 256, 1, 1));
                    wrong.setName(n);
                    edited.add(wrong);
                    continue;
                }
                edited.add(a);
            }
            NDArray extra = m.zeros(new Shape(3));
            extra.setName("decoder.extra.weight");
            edited.add(extra);
            Path file = tmp.resolve("edited.safetensors");
            write(edited, file, NDList.Encoding.SAFETENSORS);
            FeedbackBlock model = model(m, 8);
            NDArray before = TorchNames.of(model).get("fc.weight").getArray().duplicate();
            MalformedModelException e =
                    assertThrows(
                            MalformedModelException.class, () -> TorchWeights.load(model, file));
            String msg = e.getMessage();
            assertTrue(msg.contains("missing keys (1):\n    layer2.1.bn1.running_var"), msg);
            assertTrue(msg.contains("unexpected keys (1):\n    decoder.extra.weight"), msg);
            assertTrue(
                    msg.contains(
                            "shape mismatches (1):\n    layer3.0.conv2.weight: expected (256, 256,"
                                    + " 3, 3), found (256, 256, 1, 1)"),
                    msg);
            // nothing was half-loaded
            assertClose(
                    "fc untouched", TorchNames.of(model).get("fc.weight").getArray(), before, 0);
        }
    }

    @Test
    void weightsOfAnotherConfigurationAreRejectedWithShapes() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock fb16 = model(m, 16);
            Path weights = Fixtures.dir().resolve(WEIGHTS);
            MalformedModelException e =
                    assertThrows(
                            MalformedModelException.class, () -> TorchWeights.load(fb16, weights));
            assertTrue(
                    e.getMessage().contains("error_head.Q: expected (528, 528), found (520, 520)"),
                    e.getMessage());
        }
    }

    @Test
    void truncatedOrMissingFilesGiveClearErrors() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = model(m, 8);
            byte[] all = Files.readAllBytes(Fixtures.dir().resolve(WEIGHTS));
            Path truncated = tmp.resolve("truncated.safetensors");
            Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
            MalformedModelException e =
                    assertThrows(
                            MalformedModelException.class,
                            () -> TorchWeights.load(model, truncated));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            Path garbage = tmp.resolve("garbage.bin");
            Files.write(garbage, new byte[] {1, 2, 3});
            assertThrows(MalformedModelException.class, () -> TorchWeights.load(model, garbage));
            NoSuchFileException missing =
                    assertThrows(
                            NoSuchFileException.class,
                            () -> TorchWeights.load(model, tmp.resolve("nope.safetensors")));
            assertTrue(missing.getMessage().contains("nope.safetensors"));
        }
    }

    @Test
    void savedSafetensorsLoadBackToTheSameOutputs() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock a = model(m, 8);
            Path file = tmp.resolve("java.safetensors");
            TorchWeights.save(a, file);
            FeedbackBlock b = model(m, 8);
            TorchWeights.load(b, file);
            NDArray x = m.randomNormal(INPUT);
            assertClose("round trip", logits(b, m, x), logits(a, m, x), 0);
        }
    }

    @Test
    void djlModelSaveAndLoadRoundTrip() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(INPUT);
            NDArray want;
            Map<String, Parameter> saved;
            try (Model model = Model.newInstance("dfb")) {
                FeedbackBlock block = model(m, 8);
                saved = TorchNames.of(block);
                model.setBlock(block);
                want = logits(block, m, x);
                model.save(tmp, "dfb");
            }
            try (Model model = Model.newInstance("dfb")) {
                FeedbackBlock block =
                        ResNet18.builder()
                                .setNumClasses(10)
                                .optFbFilters(8)
                                .optIterations(2)
                                .build();
                model.setBlock(block);
                model.load(tmp, "dfb");
                for (Map.Entry<String, Parameter> p : TorchNames.of(block).entrySet()) {
                    assertClose(
                            p.getKey(),
                            p.getValue().getArray(),
                            saved.get(p.getKey()).getArray(),
                            0);
                }
                // parameters are restored bit for bit (above); LibTorch may pick other kernels for
                // the reloaded arrays, so outputs agree to float32 rounding
                assertClose("DJL params round trip", logits(block, m, x), want, 1e-5);
            }
        }
    }

    /** The fixture's state_dict with every key renamed; null drops a key. */
    private Path renamed(NDManager m, String name, UnaryOperator<String> rename)
            throws IOException {
        NDList ref = NDList.decode(m, Files.newInputStream(Fixtures.dir().resolve(WEIGHTS)));
        NDList out = new NDList();
        for (NDArray a : ref) {
            String key = rename.apply(a.getName());
            if (key != null) {
                a.setName(key);
                out.add(a);
            }
        }
        Path file = tmp.resolve(name + ".safetensors");
        write(out, file, NDList.Encoding.SAFETENSORS);
        return file;
    }

    @Test
    void dataParallelAndCompiledPrefixesAreStripped() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            for (String prefix : List.of("module.", "_orig_mod.", "module._orig_mod.")) {
                Path file = renamed(m, "prefixed", k -> prefix + k);
                FeedbackBlock model = model(m, 8);
                // strict: the prefix is the only difference
                LoadReport report = TorchWeights.load(model, file);
                Map<String, Integer> stripped = new LinkedHashMap<>();
                for (String p : prefix.split("(?<=\\.)")) {
                    stripped.put(p, 148);
                }
                assertEquals(stripped, report.strippedPrefixes(), prefix);
                assertEquals(115, report.parameterCount());
                assertEquals(115, report.loaded().size(), prefix);
                assertEquals(List.of(), report.untouched());
                if (prefix.equals("module.")) {
                    assertEquals(
                            "loaded 115 of 115 parameters from "
                                    + file
                                    + " (strict); stripped 'module.' from 148 keys; skipped 26"
                                    + " unused, 7 alias",
                            report.summary());
                }
                assertClose(
                        prefix + "fc.weight",
                        TorchNames.of(model).get("fc.weight").getArray(),
                        NDList.decode(m, Files.newInputStream(file)).get(prefix + "fc.weight"),
                        0);
            }
        }
    }

    @Test
    void nonStrictLoadReportsAndLogsWhatItLoadedSkippedAndLeftUntouched() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            // the case: a DataParallel dict (every key "module."), loaded non-strictly,
            // used to load 0 of 115 tensors and say nothing; here layer4 is also absent and an
            // extra head is present
            Path file = renamed(m, "partial", k -> k.startsWith("layer4.") ? null : "module." + k);
            NDList extra = NDList.decode(m, Files.newInputStream(file));
            NDArray head = m.zeros(new Shape(3));
            head.setName("module.head.extra.weight");
            extra.add(head);
            write(extra, file, NDList.Encoding.SAFETENSORS);
            FeedbackBlock model = model(m, 8);
            List<String> layer4 = new ArrayList<>();
            Map<String, NDArray> before = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> p : TorchNames.of(model).entrySet()) {
                if (p.getKey().startsWith("layer4.")) {
                    layer4.add(p.getKey());
                    before.put(p.getKey(), p.getValue().getArray().duplicate());
                }
            }
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream stderr = System.err;
            LoadReport report;
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try {
                report = TorchWeights.load(model, file, false);
            } finally {
                System.setErr(stderr);
            }
            assertEquals(115 - layer4.size(), report.loaded().size());
            assertEquals(layer4, report.untouched());
            assertEquals(Map.of("module.", 119), report.strippedPrefixes());
            Map<LoadReport.Outcome, List<String>> skipped = new EnumMap<>(LoadReport.Outcome.class);
            for (LoadReport.Entry e : report.skipped()) {
                skipped.computeIfAbsent(e.outcome(), o -> new ArrayList<>()).add(e.fileKey());
            }
            assertEquals(
                    List.of("module.head.extra.weight"),
                    skipped.get(LoadReport.Outcome.UNEXPECTED));
            assertEquals(7, skipped.get(LoadReport.Outcome.ALIAS).size());
            assertTrue(skipped.get(LoadReport.Outcome.ALIAS).contains("module.frontend.0.weight"));
            assertEquals(21, skipped.get(LoadReport.Outcome.UNUSED).size());
            assertEquals(
                    "loaded 90 of 115 parameters from "
                            + file
                            + " (non-strict); stripped 'module.' from 119 keys; skipped 21 unused,"
                            + " 7 alias, 1 unexpected; left 25 untouched",
                    report.summary());
            assertTrue(
                    err.toString(StandardCharsets.UTF_8)
                            .contains(
                                    "WARN dfbmodels.io.TorchWeights - non-strict load from "
                                            + file
                                            + " left 25 of 115 parameters untouched (layer4.0.conv1.weight,"
                                            + " layer4.0.bn1.weight"),
                    err.toString(StandardCharsets.UTF_8));
            for (Map.Entry<String, NDArray> b : before.entrySet()) {
                assertClose(
                        b.getKey(),
                        TorchNames.of(model).get(b.getKey()).getArray(),
                        b.getValue(),
                        0);
            }
            NDList ref = NDList.decode(m, Files.newInputStream(Fixtures.dir().resolve(WEIGHTS)));
            assertClose(
                    "layer3 loaded",
                    TorchNames.of(model).get("layer3.1.conv2.weight").getArray(),
                    ref.get("layer3.1.conv2.weight"),
                    0);
        }
    }
}
