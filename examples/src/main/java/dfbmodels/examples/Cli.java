package dfbmodels.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The examples' command-line frame, as a Unix user expects it: {@code --help} prints the usage on
 * standard output and succeeds (status 0); bad options print what is wrong on standard error
 * (status 2); a run that fails on its data or output prints why (status 1).
 */
final class Cli {

    private Cli() {}

    /** Thrown by an options parser for {@code --help} or {@code -h}; the message is the usage. */
    static final class HelpRequested extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        HelpRequested(String usage) {
            super(usage);
        }
    }

    /**
     * The error for an option given last, without its value: unknown options are called unknown
     * (not "needs a value").
     *
     * @param name the last argument
     * @param usage the program's usage, one option per line as {@code " --name VALUE text"}
     * @return the exception to throw, its message followed by the usage
     */
    static IllegalArgumentException missingValue(String name, String usage) {
        boolean known = usage.lines().anyMatch(line -> line.startsWith("  " + name + " "));
        return new IllegalArgumentException(
                (known ? "option " + name + " needs a value" : "unknown option " + name)
                        + "\n"
                        + usage);
    }

    /** Sets one option of a program's options. */
    interface Setter {
        /**
         * Sets the option {@code name} to {@code value}.
         *
         * @return false if {@code name} is not an option of the program
         * @throws IllegalArgumentException naming the option, the value and what is valid
         */
        boolean set(String name, String value);
    }

    /**
     * Reads {@code --name value} pairs: {@code --help} or {@code -h} anywhere asks for the usage;
     * an option without its value (given last, or followed by another {@code --option}), or an
     * unknown option, is named, followed by the usage.
     *
     * @param args the command line
     * @param usage the program's usage, one option per line as {@code " --name VALUE text"}
     * @param setter sets each option
     * @throws HelpRequested for {@code --help} or {@code -h}
     * @throws IllegalArgumentException naming the bad option
     */
    static void parse(String[] args, String usage, Setter setter) {
        for (String arg : args) {
            if ("--help".equals(arg) || "-h".equals(arg)) {
                throw new HelpRequested(usage);
            }
        }
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            // "--data-dir --epochs 1": the value was forgotten, "--epochs" is not a folder
            if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                throw missingValue(name, usage);
            }
            if (!setter.set(name, args[++i])) {
                throw new IllegalArgumentException("unknown option " + name + "\n" + usage);
            }
        }
    }

    /** An options parser: throws {@link IllegalArgumentException} naming the bad option. */
    interface Parser<O> {
        O parse(String[] args);
    }

    /** A program run on its options. */
    interface Program<O> {
        void run(O options) throws Exception;
    }

    /**
     * Parses {@code args} and runs the program, exiting the JVM with the status only when it is not
     * 0 (so that {@code mvn exec:java} reports its success as usual).
     *
     * @param args the command line
     * @param parser the program's options parser
     * @param program the program
     * @param <O> the type of the options
     * @throws Exception if the program fails in another way than on its data or output
     */
    static <O> void main(String[] args, Parser<O> parser, Program<O> program) throws Exception {
        int status = run(args, parser, program, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Parses {@code args} and runs the program.
     *
     * @return 0 after {@code --help} or a run that finished; 2 for bad options; 1 for a run that
     *     failed with an {@link IOException} or an {@link IllegalArgumentException}
     */
    static <O> int run(
            String[] args, Parser<O> parser, Program<O> program, PrintStream out, PrintStream err)
            throws Exception {
        O options;
        try {
            options = parser.parse(args);
        } catch (HelpRequested e) {
            out.println(e.getMessage());
            return 0;
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        try {
            program.run(options);
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            err.println(describe(e));
            return 1;
        }
    }

    /**
     * The message, or for a file-system failure, whose message is often the bare path ({@code
     * Files.createDirectories} on an existing file), what happened to which file.
     */
    static String describe(Exception e) {
        if (!(e instanceof FileSystemException)) {
            return e.getMessage();
        }
        FileSystemException f = (FileSystemException) e;
        String what;
        if (e instanceof FileAlreadyExistsException) {
            what = "a file is in the way";
        } else if (e instanceof NoSuchFileException) {
            what = "no such file or folder";
        } else if (e instanceof AccessDeniedException) {
            what = "permission denied";
        } else if (e instanceof NotDirectoryException) {
            what = "not a folder";
        } else {
            what = f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
        }
        return "cannot write or read "
                + f.getFile()
                + (f.getOtherFile() != null ? " (" + f.getOtherFile() + ")" : "")
                + ": "
                + what;
    }
}
