package dfbmodels.io;

import ai.djl.MalformedModelException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A safetensors file, validated as the format's reference implementation does: an 8-byte
 * little-endian header length (at most 100 MB), a UTF-8 JSON object mapping each key to {@code
 * dtype}, {@code shape} and {@code data_offsets} (plus an optional {@code __metadata__} of
 * strings), then the data, which the tensors must cover exactly, without gaps or overlaps, each
 * with the byte count its dtype and shape need.
 */
final class SafetensorsFile extends TensorFile {

    private static final long MAX_HEADER = 100_000_000L;
    private static final String TYPES =
            "F64, F32, F16, BF16, F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ, F8_E8M0, F6_E2M3,"
                    + " F6_E3M2, F4, C64, I64, I32, I16, I8, U64, U32, U16, U8, BOOL";

    private final FileChannel channel;
    private final List<TensorEntry> entries;

    SafetensorsFile(Path file) throws IOException, MalformedModelException {
        super(file);
        channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            entries = readHeader();
        } catch (IOException | MalformedModelException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private List<TensorEntry> readHeader() throws IOException, MalformedModelException {
        long size = channel.size();
        if (size < 8) {
            throw malformed(
                    size
                            + " bytes long, too short for safetensors (an 8-byte header length,"
                            + " then a JSON header)");
        }
        ByteBuffer lengthBytes = readFully(0, 8).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthBytes.getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER) {
            throw malformed(
                    "header length "
                            + Long.toUnsignedString(headerLength)
                            + " exceeds safetensors' limit of 100,000,000 bytes (not a safetensors"
                            + " file?)");
        }
        if (8 + headerLength > size) {
            throw malformed(
                    "header length "
                            + headerLength
                            + " runs past the end of the file ("
                            + size
                            + " bytes): truncated, or not a safetensors file");
        }
        String json;
        try {
            json =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(readFully(8, (int) headerLength))
                            .toString();
        } catch (CharacterCodingException e) {
            throw malformed("header is not valid UTF-8 (not a safetensors file?)");
        }
        if (!json.stripLeading().startsWith("{")) {
            throw malformed("header is not a JSON object (not a safetensors file?)");
        }
        List<TensorEntry> list = parse(json, 8 + headerLength);
        checkLayout(list, 8 + headerLength, size - 8 - headerLength);
        return list;
    }

    private List<TensorEntry> parse(String json, long dataStart) throws MalformedModelException {
        List<TensorEntry> list = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        String key = null;
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            reader.beginObject();
            while (reader.hasNext()) {
                key = reader.nextName();
                if (!keys.add(key)) {
                    throw malformed(key, "appears twice in the header");
                }
                if ("__metadata__".equals(key)) {
                    readMetadata(reader);
                } else {
                    list.add(readTensor(reader, key, dataStart));
                }
                key = null;
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw malformed("header holds more than one JSON value");
            }
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            String what = "header is not valid safetensors JSON: " + e.getMessage();
            throw key == null ? malformed(what) : malformed(key, what);
        }
        return list;
    }

    private void readMetadata(JsonReader reader) throws IOException, MalformedModelException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw malformed("__metadata__ must be an object of strings, found " + reader.peek());
        }
        reader.beginObject();
        while (reader.hasNext()) {
            String name = reader.nextName();
            if (reader.peek() != JsonToken.STRING) {
                throw malformed(
                        "__metadata__ must map strings to strings; '"
                                + name
                                + "' is "
                                + reader.peek());
            }
            reader.nextString();
        }
        reader.endObject();
    }

    private TensorEntry readTensor(JsonReader reader, String key, long dataStart)
            throws IOException, MalformedModelException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw malformed(key, "expected an object with dtype, shape and data_offsets");
        }
        String dtype = null;
        long[] shape = null;
        long[] offsets = null;
        reader.beginObject();
        while (reader.hasNext()) {
            String field = reader.nextName();
            switch (field) {
                case "dtype":
                    if (reader.peek() != JsonToken.STRING) {
                        throw malformed(key, "dtype must be a string, found " + reader.peek());
                    }
                    dtype = reader.nextString();
                    break;
                case "shape":
                    shape = readLongs(reader, key, "shape");
                    break;
                case "data_offsets":
                    offsets = readLongs(reader, key, "data_offsets");
                    break;
                default:
                    reader.skipValue();
            }
        }
        reader.endObject();
        if (dtype == null || shape == null || offsets == null) {
            String absent = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw malformed(key, "has no " + absent);
        }
        TensorType type = TensorType.fromSafetensors(dtype);
        if (type == null) {
            throw malformed(key, "unknown dtype '" + dtype + "' (safetensors has " + TYPES + ")");
        }
        if (offsets.length != 2) {
            throw malformed(
                    key, "data_offsets must be [begin, end], found " + offsets.length + " numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw malformed(
                    key,
                    "data_offsets ["
                            + begin
                            + ", "
                            + end
                            + "]: begin "
                            + begin
                            + " is after end "
                            + end);
        }
        long elements = TensorEntry.elements(shape);
        long bits =
                elements < 0 || elements > Long.MAX_VALUE / type.bits()
                        ? -1
                        : elements * type.bits();
        if (bits < 0) {
            throw malformed(key, "shape " + Arrays.toString(shape) + " has too many elements");
        }
        if (bits % 8 != 0) {
            throw malformed(
                    key,
                    "shape "
                            + Arrays.toString(shape)
                            + " of "
                            + dtype
                            + " is not a whole number of bytes");
        }
        if (end - begin != bits / 8) {
            throw malformed(
                    key,
                    "data_offsets ["
                            + begin
                            + ", "
                            + end
                            + "] span "
                            + (end - begin)
                            + " bytes, but shape "
                            + Arrays.toString(shape)
                            + " of "
                            + dtype
                            + " needs "
                            + bits / 8);
        }
        return new TensorEntry(
                key,
                dtype,
                type,
                shape,
                ByteOrder.LITTLE_ENDIAN,
                false,
                dataStart + begin,
                end - begin);
    }

    private long[] readLongs(JsonReader reader, String key, String field)
            throws IOException, MalformedModelException {
        if (reader.peek() != JsonToken.BEGIN_ARRAY) {
            throw malformed(key, field + " must be an array of integers, found " + reader.peek());
        }
        List<Long> values = new ArrayList<>();
        reader.beginArray();
        while (reader.hasNext()) {
            if (reader.peek() != JsonToken.NUMBER) {
                throw malformed(
                        key, field + " must be an array of integers, found " + reader.peek());
            }
            String number = reader.nextString();
            long value;
            try {
                value = Long.parseLong(number);
            } catch (NumberFormatException e) {
                throw malformed(key, field + " holds " + number + ", not an integer");
            }
            if (value < 0) {
                throw malformed(key, field + " holds " + number + ", a negative number");
            }
            values.add(value);
        }
        reader.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /** The tensors must tile the data region exactly, as the reference implementation requires. */
    private void checkLayout(List<TensorEntry> list, long dataStart, long dataLength)
            throws MalformedModelException {
        list.sort(
                Comparator.comparingLong((TensorEntry e) -> e.offset)
                        .thenComparingLong(e -> e.byteLength));
        long expected = 0;
        TensorEntry previous = null;
        for (TensorEntry e : list) {
            long begin = e.offset - dataStart;
            if (begin < expected) {
                throw malformed(
                        e.key,
                        "data_offsets "
                                + span(e, dataStart)
                                + " overlap those of tensor '"
                                + previous.key
                                + "' "
                                + span(previous, dataStart));
            }
            if (begin > expected) {
                throw malformed(
                        e.key,
                        "data_offsets "
                                + span(e, dataStart)
                                + " leave "
                                + (begin - expected)
                                + " bytes before them that belong to no tensor");
            }
            expected = begin + e.byteLength;
            previous = e;
        }
        if (expected > dataLength) {
            throw malformed(
                    previous.key,
                    "data_offsets "
                            + span(previous, dataStart)
                            + " run past the end of the file, which holds "
                            + dataLength
                            + " data bytes: truncated?");
        }
        if (expected < dataLength) {
            throw malformed(
                    (dataLength - expected)
                            + " bytes after the last tensor's data belong to no tensor");
        }
    }

    private static String span(TensorEntry e, long dataStart) {
        long begin = e.offset - dataStart;
        return "[" + begin + ", " + (begin + e.byteLength) + "]";
    }

    @Override
    List<TensorEntry> entries() {
        return entries;
    }

    @Override
    ByteBuffer read(TensorEntry entry) throws IOException, MalformedModelException {
        return readFully(entry.offset, Math.toIntExact(entry.byteLength));
    }

    private ByteBuffer readFully(long position, int length)
            throws IOException, MalformedModelException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw malformed("ended early, at byte " + (position + buffer.position()));
            }
        }
        buffer.flip();
        return buffer;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
