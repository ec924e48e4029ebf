package dfbmodels.io;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The instance fields of some objects (blocks, parameters), to be put back after code that changes
 * them has run: how a block's own {@code loadMetadata} can read a file without leaving a trace.
 *
 * <p>Restoring sets only the fields whose value changed (by identity for references), so final
 * fields, which nothing changes, are never written.
 */
final class FieldSnapshot {

    private final List<Object> owners = new ArrayList<>();
    private final List<Field> fields = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();

    /**
     * Records every instance field of every object.
     *
     * @throws java.lang.reflect.InaccessibleObjectException if a class is in a module that does not
     *     open its package
     */
    static FieldSnapshot of(Collection<?> objects) {
        FieldSnapshot s = new FieldSnapshot();
        for (Object o : objects) {
            for (Class<?> c = o.getClass(); c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers())) {
                        continue;
                    }
                    f.setAccessible(true);
                    s.owners.add(o);
                    s.fields.add(f);
                    s.values.add(get(f, o));
                }
            }
        }
        return s;
    }

    /** Puts back every field that changed since the snapshot. */
    void restore() {
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            Object owner = owners.get(i);
            Object now = get(f, owner);
            Object then = values.get(i);
            boolean same = f.getType().isPrimitive() ? Objects.equals(now, then) : now == then;
            if (!same) {
                try {
                    f.set(owner, then);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot restore " + f, e);
                }
            }
        }
    }

    private static Object get(Field f, Object owner) {
        try {
            return f.get(owner);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read " + f, e);
        }
    }
}
