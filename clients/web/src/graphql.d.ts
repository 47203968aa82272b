// The documents in clients/operations/ are bundled as text (esbuild's text loader).
declare module "*.graphql" {
  const document: string;
  export default document;
}
