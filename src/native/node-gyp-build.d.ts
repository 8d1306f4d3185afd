// node-gyp-build ships no types; the loader uses only resolve().
declare module 'node-gyp-build' {
  interface NodeGypBuild {
    (dir: string): unknown;
    /** The .node file to load from dir (build/Release, build/Debug, then prebuilds/); throws
     *  "No native build was found for platform=... arch=... libc=..." when none fits. */
    resolve(dir: string): string;
  }
  const load: NodeGypBuild;
  export default load;
}
