package dfbmodels.io;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dfbmodels.io.LoadReport.Outcome;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads PyTorch {@code state_dict}s into dfbmodels blocks, and saves blocks in the same form.
 *
 * <p><b>Files</b> are safetensors or numpy {@code .npz} (as written by {@code
 * safetensors.torch.save_file} or {@code np.savez(path, **{k: v.numpy() ...})}, compressed or not),
 * recognised by their content. The whole file is validated before anything is written: every header
 * (JSON, dtypes, shapes, offsets: the tensors must tile the data exactly), then every key, shape
 * and type against the model; a malformed file gives a {@link MalformedModelException} naming the
 * file, the key and what is wrong, and leaves the model untouched.
 *
 * <p><b>Types.</b> Every floating type loads exactly and is then converted to the parameter's type
 * (rounding to nearest, as PyTorch's {@code load_state_dict} copies): safetensors' F64, F32, F16,
 * BF16 and F8 kinds (E4M3, E5M2, E4M3FNUZ, E5M2FNUZ, E8M0); numpy's {@code f2}, {@code f4}, {@code
 * f8} in either byte order and in C or Fortran order. Integer and boolean tensors are not loaded
 * into floating parameters (PyTorch would convert them; here they are an error naming the key and
 * the type, because an integer tensor where a float weight belongs is a quantised or foreign
 * checkpoint, and converting it would load garbage silently); neither are packed sub-byte floats
 * (F4, F6), complex numbers and numpy's other types. Tensors that are skipped may have any type.
 *
 * <p><b>Keys</b> follow {@link TorchNames}. The standard prefixes {@code module.} ({@code
 * DataParallel}, {@code DistributedDataParallel}) and {@code _orig_mod.} ({@code torch.compile})
 * are stripped from every key that has them, nested or not, unless a parameter's key itself starts
 * with one. The original's duplicate aliases ({@code frontend.0.*} = {@code conv1.*}, {@code
 * frontend.1.*} = {@code bn1.*}, {@code classification_head.2.*} = {@code fc.*}) are accepted in
 * place of, or beside, the primary keys; entries the computation does not use ({@code T}, {@code
 * layernorm_weight}, {@code error_head.T}, {@code error_head.Qinv}, {@code *.num_batches_tracked})
 * are skipped.
 *
 * <p>Every load returns a {@link LoadReport} and logs its summary (INFO); a non-strict load that
 * skipped unexpected tensors or left parameters untouched says which (WARN).
 *
 * <p>{@link #loadBackbone(Block, Path, BackboneOptions)} starts a feedback model from a pretrained
 * torchvision ResNet or VisionTransformer {@code state_dict}: what fits is copied whole, what the
 * feedback widens is copied into its leading slice, what has no place is skipped, all reported.
 */
public final class TorchWeights {

    private static final Logger logger = LoggerFactory.getLogger(TorchWeights.class);

    private static final List<String> PREFIXES = List.of("module.", "_orig_mod.");
    private static final int LOGGED_KEYS = 10;

    private TorchWeights() {}

    /**
     * Loads a PyTorch {@code state_dict} strictly: every parameter must be in the file with the
     * right shape and a floating type, and the file must hold nothing else (beyond the aliases and
     * unused keys).
     *
     * @param block an initialised block
     * @param file a {@code .safetensors} or {@code .npz} file
     * @return what was loaded and skipped
     * @throws IOException if the file cannot be read ({@link java.nio.file.NoSuchFileException} if
     *     it does not exist)
     * @throws MalformedModelException if the file is malformed or not a state_dict of this model;
     *     the message lists every missing key, unexpected key, shape mismatch and type problem
     * @throws IllegalStateException if the block is not initialised
     */
    public static LoadReport load(Block block, Path file)
            throws IOException, MalformedModelException {
        return load(block, file, true);
    }

    /**
     * Loads a PyTorch {@code state_dict}; values of any floating type are converted to the block's.
     *
     * <p>A non-strict load writes the parameters the file has, leaves the others as they are and
     * skips tensors no parameter has; the returned report lists each. Shape and type problems are
     * errors either way, and a failed load writes nothing.
     *
     * @param block an initialised block
     * @param file a {@code .safetensors} or {@code .npz} file
     * @param strict whether missing and unexpected keys are errors
     * @return what was loaded, skipped and left untouched
     * @throws IOException if the file cannot be read ({@link java.nio.file.NoSuchFileException} if
     *     it does not exist)
     * @throws MalformedModelException if the file is malformed or does not fit the model
     * @throws IllegalStateException if the block is not initialised
     */
    public static LoadReport load(Block block, Path file, boolean strict)
            throws IOException, MalformedModelException {
        Map<String, Parameter> params = initialisedParameters(block);
        try (TensorFile tensors = TensorFile.open(file);
                NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            StateDictPlan plan = StateDictPlan.of(params, tensors.entries(), strict, file);
            // read and convert everything before writing anything
            Map<Parameter, NDArray> values = new LinkedHashMap<>();
            for (Map.Entry<Parameter, TensorEntry> a : plan.assignments.entrySet()) {
                TensorEntry entry = a.getValue();
                NDArray value = entry.decode(manager, tensors.read(entry));
                DataType type = a.getKey().getArray().getDataType();
                values.put(
                        a.getKey(),
                        value.getDataType() == type ? value : value.toType(type, false));
            }
            for (Map.Entry<Parameter, NDArray> v : values.entrySet()) {
                v.getKey().getArray().set(v.getValue().toByteBuffer());
            }
            LoadReport report =
                    new LoadReport(
                            file,
                            strict,
                            params.size(),
                            plan.entries,
                            plan.untouched,
                            plan.stripped);
            log(report);
            return report;
        }
    }

    /**
     * Loads a torchvision backbone into a feedback model, with the default {@link BackboneOptions}:
     * feedback inputs zeroed, nothing frozen. See {@link #loadBackbone(Block, Path,
     * BackboneOptions)}.
     *
     * @param model an initialised feedback ResNet, DeepLabV3+ or Vision Transformer
     * @param file a torchvision {@code state_dict}, {@code .safetensors} or {@code .npz}
     * @return what was copied whole, copied as a slice, initialised by rule, left as initialised
     *     and skipped
     * @throws IOException if the file cannot be read ({@link java.nio.file.NoSuchFileException} if
     *     it does not exist)
     * @throws MalformedModelException if the file is malformed or not a backbone of this model; the
     *     message lists every missing key, key of another architecture, shape mismatch and type
     *     problem
     * @throws IllegalArgumentException if the model has no torchvision backbone
     * @throws IllegalStateException if the model is not initialised
     */
    public static LoadReport loadBackbone(Block model, Path file)
            throws IOException, MalformedModelException {
        return loadBackbone(model, file, BackboneOptions.defaults());
    }

    /**
     * Loads a pretrained torchvision backbone ({@code resnet18/34/50/101/152} or {@code
     * VisionTransformer} {@code state_dict}, as {@code torchvision.models.resnet50(weights=...)
     * .state_dict()} holds it) into a feedback model, the way practitioners start: the pretrained
     * trunk, the feedback path and the head new.
     *
     * <p><b>What goes where.</b> The model's parameters say which torchvision architecture it takes
     * (block type, block counts, input channels; the ViT's patch, width, layers and grid); see
     * {@link LoadReport#backbone()}. Every tensor whose name and shape match is copied whole
     * ({@link LoadReport.Outcome#LOADED}, {@link LoadReport#loaded()}). The tensors the feedback
     * widens are copied into the leading slice of the model's ({@link LoadReport.Outcome#SLICED},
     * {@link LoadReport#sliced()}), the rest keeping the model's initialisation: {@code
     * layer1.0.conv1} and, for bottlenecks, {@code layer1.0.downsample.0} (the feedback's {@code
     * fb·e} input channels follow the stem's 64), every {@code layer4} tensor ({@code fb} more
     * planes, the state's feedback channels, after the pretrained ones). A ResNet head ({@code fc})
     * of another class count is copied in its overlapping rows: the file's first classes, as many
     * as the model has, or all of the file's into the model's first rows. The ViT's {@code
     * encoder.pos_embedding} {@code (1, N + 1, D)} loads without its class token's row. Layers the
     * pretrained network does not have start as the identity it has there ({@link
     * LoadReport#initialised()}): the feedback ResNet18/34's {@code layer1.0.downsample} (conv
     * identity on the stem's channels, BatchNorm identity in eval), the ViT's {@code input_proj}
     * and, when the class channels are the token width, its {@code state_proj}. Skipped, because
     * the model has no place for them ({@link LoadReport.Outcome#SKIPPED}, with the reason): the
     * ViT's class token and its head {@code heads.*} (which reads the class token), a head in a
     * model without one (DeepLabV3+), entries outside the architecture's {@code state_dict}; {@code
     * num_batches_tracked} is unused. The state operator, the GroupNorms and the readout's new
     * layers are left as initialised ({@link LoadReport#untouched()}).
     *
     * <p><b>T = 1.</b> With {@link BackboneOptions.Builder#optZeroFeedbackInputs(boolean)} (the
     * default) the feedback's extra inputs into the pretrained outputs start at zero, so at the
     * first step the class channels of the body's output are what the pretrained network computes
     * (a ResNet's {@code layer4} output; the ViT encoder's output on the position-embedded patch
     * tokens, without a class token), in eval mode, up to float rounding; the state operator, the
     * loop's GroupNorms and the head come after. In training mode the BatchNorms normalise with
     * batch statistics, the new identity BatchNorm of a ResNet18/34 {@code layer1.0.downsample}
     * included.
     *
     * <p><b>Refusals.</b> A file that is not a backbone of this model (another architecture, depth
     * or width, a CIFAR-stem model's 3×3 {@code conv1}, other input channels, another patch grid)
     * is refused with every missing key, key of another architecture and shape mismatch listed, and
     * hints where the model could be built to fit. The whole file is validated first: a refused or
     * malformed file leaves the model untouched. Files, types and prefixes are as for {@link
     * #load(Block, Path, boolean)}.
     *
     * <p>The report is returned and logged (INFO).
     *
     * @param model an initialised feedback ResNet, DeepLabV3+ or Vision Transformer
     * @param file a torchvision {@code state_dict}, {@code .safetensors} or {@code .npz}
     * @param options how to initialise the feedback inputs, and whether to freeze what was loaded
     * @return what was copied whole, copied as a slice, initialised by rule, left as initialised,
     *     skipped and frozen
     * @throws IOException if the file cannot be read ({@link java.nio.file.NoSuchFileException} if
     *     it does not exist)
     * @throws MalformedModelException if the file is malformed or not a backbone of this model; the
     *     message lists every missing key, key of another architecture, shape mismatch and type
     *     problem
     * @throws IllegalArgumentException if the model has no torchvision backbone
     * @throws IllegalStateException if the model is not initialised
     */
    public static LoadReport loadBackbone(Block model, Path file, BackboneOptions options)
            throws IOException, MalformedModelException {
        java.util.Objects.requireNonNull(options, "options");
        return BackboneLoader.load(model, file, options);
    }

    /** Every parameter by PyTorch key, after checking that all are initialised. */
    static Map<String, Parameter> initialisedParameters(Block block) {
        Map<String, Parameter> params = TorchNames.of(block);
        for (Map.Entry<String, Parameter> p : params.entrySet()) {
            if (!p.getValue().isInitialized()) {
                throw new IllegalStateException(
                        "initialise the block before loading weights into it"
                                + " (block.initialize(manager, dataType, inputShape)); parameter "
                                + p.getKey()
                                + " has no value yet");
            }
        }
        return params;
    }

    /** Strips the standard prefixes off a key, nested or not, unless the model's keys use them. */
    static String strip(String key, Map<String, Parameter> params, Map<String, Integer> counts) {
        boolean again = true;
        while (again) {
            again = false;
            for (String prefix : PREFIXES) {
                if (key.startsWith(prefix) && !anyStartsWith(params, prefix)) {
                    key = key.substring(prefix.length());
                    counts.merge(prefix, 1, Integer::sum);
                    again = true;
                }
            }
        }
        return key;
    }

    private static boolean anyStartsWith(Map<String, Parameter> params, String prefix) {
        for (String key : params.keySet()) {
            if (key.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** Why a tensor cannot load into a parameter of type {@code target}, or null if it can. */
    static String typeProblem(TensorEntry value, DataType target) {
        String into =
                " does not load into a "
                        + target.name().toLowerCase(java.util.Locale.ROOT)
                        + " parameter";
        if (!target.isFloating()) {
            return "the parameter has type " + target + "; only floating parameters are loaded";
        }
        if (value.type == null) {
            return "type " + value.dtypeName + " has no numeric counterpart and" + into;
        }
        switch (value.type.kind()) {
            case FLOAT:
                return null;
            case INTEGER:
                return "type "
                        + value.dtypeName
                        + (value.type == TensorType.BOOL ? " (boolean)" : " (integer)")
                        + into
                        + ": integer tensors are not converted (a quantised checkpoint would load"
                        + " as garbage)";
            case PACKED:
                return "type " + value.dtypeName + " (packed sub-byte float) is not supported";
            default:
                return "type " + value.dtypeName + " (complex)" + into;
        }
    }

    private static void log(LoadReport report) {
        logger.info("{}", report.summary());
        if (report.isStrict()) {
            return;
        }
        List<String> unexpected = new ArrayList<>();
        for (LoadReport.Entry e : report.skipped()) {
            if (e.outcome() == Outcome.UNEXPECTED) {
                unexpected.add(e.fileKey());
            }
        }
        if (!report.untouched().isEmpty() || !unexpected.isEmpty()) {
            logger.warn(
                    "non-strict load from {} left {} of {} parameters untouched{} and skipped {}"
                            + " unexpected tensors{}",
                    report.file(),
                    report.untouched().size(),
                    report.parameterCount(),
                    abbreviate(report.untouched()),
                    unexpected.size(),
                    abbreviate(unexpected));
        }
    }

    static String abbreviate(List<String> keys) {
        if (keys.isEmpty()) {
            return "";
        }
        List<String> shown = keys.subList(0, Math.min(LOGGED_KEYS, keys.size()));
        return " ("
                + String.join(", ", shown)
                + (keys.size() > shown.size()
                        ? ", ... " + (keys.size() - shown.size()) + " more"
                        : "")
                + ")";
    }

    /**
     * Saves a block's parameters as a safetensors {@code state_dict} under their PyTorch keys. The
     * file is written beside its destination and moved into place, so a failed save leaves no
     * partial file.
     *
     * @param block an initialised block
     * @param file the file to write
     * @throws IOException if the file cannot be written
     */
    public static void save(Block block, Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path partial =
                Files.createTempFile(
                        absolute.getParent(), absolute.getFileName() + ".", ".partial");
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDList list = new NDList();
            for (Map.Entry<String, Parameter> p : TorchNames.of(block).entrySet()) {
                NDArray copy = p.getValue().getArray().toDevice(Device.cpu(), true);
                copy.attach(manager);
                copy.setName(p.getKey());
                list.add(copy);
            }
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(partial))) {
                list.encode(os, NDList.Encoding.SAFETENSORS);
            }
            Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    static void appendList(StringBuilder sb, String what, List<String> items) {
        if (!items.isEmpty()) {
            sb.append("\n  ").append(what).append(" (").append(items.size()).append("):");
            for (String item : items) {
                sb.append("\n    ").append(item);
            }
        }
    }
}
