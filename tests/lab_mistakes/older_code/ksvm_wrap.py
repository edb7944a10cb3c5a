"""Mistake: the constructor inserts the kernel third, KSVMWrap(X, Y_, kernel, param_svm_c, param_svm_gamma):
by name everything works, but the lab's call KSVMWrap(X, Y_, 1, 'auto') gives the kernel 1."""

from sklearn.svm import SVC


class KSVMWrap:
    def __init__(self, X, Y_, kernel="rbf", param_svm_c=1, param_svm_gamma="auto"):
        self.model = SVC(kernel=kernel, C=param_svm_c, gamma=param_svm_gamma).fit(X, Y_)

    def predict(self, X):
        return self.model.predict(X)

    def get_scores(self, X):
        return self.model.decision_function(X)

    def support(self):
        return self.model.support_
